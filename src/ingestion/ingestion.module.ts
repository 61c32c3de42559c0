import { AuditService } from '../common/audit.service.js';
import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { PlanningModule } from '../notifications/planning.module.js';
import { PeopleModule } from '../people/people.module.js';
import { SourcesModule } from '../sources/sources.module.js';
import { CustodyEventsController } from './custody-events.controller.js';
import { CustodyEventsService } from './custody-events.service.js';
import { EventRecorder } from './event-recorder.js';
import { RosterAdminController, RosterController } from './roster.controller.js';
import { RosterService } from './roster.service.js';

/** Custody events and roster snapshots in; persons, statuses and planned notifications out, in one transaction. */
@Module({
  imports: [SourcesModule, PeopleModule, PlanningModule, MetricsModule],
  providers: [CustodyEventsService, EventRecorder, RosterService, AuditService],
  exports: [CustodyEventsService, RosterService],
})
export class IngestionModule {}

@Module({ imports: [IngestionModule, SourcesModule], controllers: [CustodyEventsController, RosterController, RosterAdminController] })
export class IngestionApiModule {}
