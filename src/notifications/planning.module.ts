import { Module } from '@nestjs/common';
import { DeliveryRepositoryModule } from '../database/delivery-repository.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { NotificationPlannerService } from './notification-planner.service.js';
import { RetractionsService } from './retractions.service.js';

/**
 * Notification planning: which registrations and contacts an event reaches, and what a correction
 * stops. Imported by ingestion, whose transactions end with it; it never imports the dispatcher.
 */
@Module({
  imports: [DeliveryRepositoryModule, MetricsModule],
  providers: [NotificationPlannerService, RetractionsService],
  exports: [NotificationPlannerService, RetractionsService],
})
export class PlanningModule {}
