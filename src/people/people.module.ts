import { Module } from '@nestjs/common';
import { IdentityResolver } from './identity-resolver.js';
import { PeopleAdminController, PeopleController } from './people.controller.js';
import { PeopleService } from './people.service.js';
import { PersonStatusService } from './person-status.service.js';

/** Persons in custody: identity across sources, custody status, public search, protection. */
@Module({
  providers: [PeopleService, IdentityResolver, PersonStatusService],
  exports: [PeopleService, IdentityResolver, PersonStatusService],
})
export class PeopleModule {}

@Module({ imports: [PeopleModule], controllers: [PeopleController, PeopleAdminController] })
export class PeopleApiModule {}
