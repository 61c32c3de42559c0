import { Module } from '@nestjs/common';
import { DeliveryRepositoryModule } from '../database/delivery-repository.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { RegistrationAccessGuard } from '../registrations/registration-access.guard.js';
import { RegistrationsModule } from '../registrations/registrations.module.js';
import { ChannelProviders } from './channels/channel-providers.js';
import { DeadLettersController, DevOutboxController, LedgerController } from './delivery.controller.js';
import { DeliveryContextService } from './delivery-context.service.js';
import { DeliveryReportsService } from './delivery-reports.service.js';
import { DispatcherService } from './dispatcher.service.js';
import { EscalationsController } from './escalations.controller.js';
import { EscalationsService } from './escalations.service.js';
import { LedgerService } from './ledger.service.js';
import { NotificationsController } from './notifications.controller.js';
import { RevocationsService } from './revocations.service.js';
import { StaffAlertsService } from './staff-alerts.service.js';
import { TwilioWebhooksController } from './twilio-webhooks.controller.js';
import { SourcesModule } from '../sources/sources.module.js';
import { ProgramReportController } from './reports/program-report.controller.js';
import { ProgramReportService } from './reports/program-report.service.js';

/** The dispatcher, providers and the ledger (planning is the notifications module's, imported by ingestion). */
@Module({
  imports: [DeliveryRepositoryModule, RegistrationsModule, SourcesModule, MetricsModule],
  providers: [
    StaffAlertsService,
    ChannelProviders,
    DeliveryContextService,
    DeliveryReportsService,
    DispatcherService,
    LedgerService,
    RevocationsService,
    ProgramReportService,
    EscalationsService,
  ],
  exports: [
    DeliveryRepositoryModule,
    DispatcherService,
    RevocationsService,
    LedgerService,
    DeliveryContextService,
    DeliveryReportsService,
    StaffAlertsService,
    ProgramReportService,
    EscalationsService,
  ],
})
export class DeliveryModule {}

@Module({
  imports: [DeliveryModule, RegistrationsModule],
  controllers: [
    LedgerController,
    DeadLettersController,
    DevOutboxController,
    TwilioWebhooksController,
    NotificationsController,
    ProgramReportController,
    EscalationsController,
  ],
  providers: [RegistrationAccessGuard],
})
export class DeliveryApiModule {}
