import { Module } from '@nestjs/common';
import { NotificationPlannerService } from './notification-planner.service.js';

/**
 * Notification planning: which registrations and contacts an event reaches, and what a correction
 * stops. Imported by ingestion, whose transactions end with it; it never imports the dispatcher.
 */
@Module({
  providers: [NotificationPlannerService],
  exports: [NotificationPlannerService],
})
export class PlanningModule {}
