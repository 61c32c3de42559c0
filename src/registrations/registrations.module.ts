import { Module } from '@nestjs/common';
import { AuditService } from '../common/audit.service.js';
import { DeliveryRepositoryModule } from '../database/delivery-repository.module.js';
import { AuditController } from './audit.controller.js';
import { ConsentController } from './consent.controller.js';
import { OptOutService } from './opt-out.service.js';
import { RegistrationAccessGuard } from './registration-access.guard.js';
import { EnrollmentsController, RegistrationsController } from './registrations.controller.js';
import { RegistrationsService } from './registrations.service.js';
import { VerificationService } from './verification.service.js';

/** Victims' registrations: sign-up, verification, self-service, enrolment by specialists, consent. */
@Module({
  imports: [DeliveryRepositoryModule],
  providers: [RegistrationsService, VerificationService, OptOutService, AuditService],
  exports: [RegistrationsService, VerificationService, OptOutService, AuditService],
})
export class RegistrationsModule {}

@Module({
  imports: [RegistrationsModule],
  controllers: [RegistrationsController, EnrollmentsController, ConsentController, AuditController],
  providers: [RegistrationAccessGuard],
  exports: [RegistrationAccessGuard],
})
export class RegistrationsApiModule {}
