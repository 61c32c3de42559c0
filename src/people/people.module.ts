import { Module } from '@nestjs/common';
import { AuditService } from '../common/audit.service.js';
import { IdentityResolver } from './identity-resolver.js';
import { PeopleAdminController, PeopleController } from './people.controller.js';
import { PeopleService } from './people.service.js';
import { PersonStatusService } from './person-status.service.js';

/** Persons in custody: identity across sources, custody status, public search, protection. */
@Module({
  providers: [PeopleService, IdentityResolver, PersonStatusService, AuditService],
  exports: [PeopleService, IdentityResolver, PersonStatusService],
})
export class PeopleModule {}

@Module({ imports: [PeopleModule], controllers: [PeopleController, PeopleAdminController] })
export class PeopleApiModule {}
