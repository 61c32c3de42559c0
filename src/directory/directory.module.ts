import { Module } from '@nestjs/common';
import { AuditService } from '../common/audit.service.js';
import { DeliveryRepositoryModule } from '../database/delivery-repository.module.js';
import { RegistrationsModule } from '../registrations/registrations.module.js';
import { DirectoryService } from './directory.service.js';
import { ServicesAdminController, ServicesController, ShareServiceController } from './services.controller.js';

/** The services directory an office keeps, shared with victims through the ledger and listed on the help page. */
@Module({
  imports: [DeliveryRepositoryModule, RegistrationsModule],
  providers: [DirectoryService, AuditService],
  exports: [DirectoryService],
})
export class DirectoryModule {}

@Module({ imports: [DirectoryModule], controllers: [ServicesController, ServicesAdminController, ShareServiceController] })
export class DirectoryApiModule {}
