import { Module } from '@nestjs/common';
import { PeopleModule } from '../people/people.module.js';
import { RegistrationsModule } from '../registrations/registrations.module.js';
import { Pages } from './pages.js';
import { LanguageRedirectController, PortalController } from './portal.controller.js';
import { SignupController } from './signup.controller.js';
import { VictimSessions } from './victim-session.js';

/** The victim pages (and, later, the staff console): server-rendered HTML on the same services as the API. */
@Module({
  imports: [PeopleModule, RegistrationsModule],
  controllers: [LanguageRedirectController, PortalController, SignupController],
  providers: [Pages, VictimSessions],
  exports: [Pages, VictimSessions],
})
export class WebModule {}
