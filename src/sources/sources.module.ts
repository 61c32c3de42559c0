import { Module } from '@nestjs/common';
import { AuditService } from '../common/audit.service.js';
import { FacilitiesService } from './facilities.service.js';
import { FeedHealthService } from './feed-health.service.js';
import { SourceAuthGuard } from './source-auth.guard.js';
import { SourcesAdminController } from './sources-admin.controller.js';
import { SourcesService } from './sources.service.js';

/** Upstream systems: their keys and signatures, the facilities they report, and the health of their feeds. */
@Module({
  providers: [SourcesService, SourceAuthGuard, FacilitiesService, FeedHealthService, AuditService],
  exports: [SourcesService, SourceAuthGuard, FacilitiesService, FeedHealthService],
})
export class SourcesModule {}

@Module({ imports: [SourcesModule], controllers: [SourcesAdminController] })
export class SourcesApiModule {}
