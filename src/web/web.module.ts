import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module.js';
import { PeopleModule } from '../people/people.module.js';
import { RegistrationsModule } from '../registrations/registrations.module.js';
import { ManageController } from './manage.controller.js';
import { Pages } from './pages.js';
import { LanguageRedirectController, PortalController } from './portal.controller.js';
import { VictimSessions } from './victim-session.js';

/** The victim pages (and, later, the staff console): server-rendered HTML on the same services as the API. */
@Module({
  imports: [PeopleModule, RegistrationsModule, DeliveryModule],
  controllers: [LanguageRedirectController, PortalController, ManageController],
  providers: [Pages, VictimSessions],
  exports: [Pages, VictimSessions],
})
export class WebModule {}
