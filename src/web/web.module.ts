import { Module } from '@nestjs/common';
import { PeopleModule } from '../people/people.module.js';
import { Pages } from './pages.js';
import { LanguageRedirectController, PortalController } from './portal.controller.js';
import { VictimSessions } from './victim-session.js';

/** The victim pages (and, later, the staff console): server-rendered HTML on the same services as the API. */
@Module({
  imports: [PeopleModule],
  controllers: [LanguageRedirectController, PortalController],
  providers: [Pages, VictimSessions],
  exports: [Pages, VictimSessions],
})
export class WebModule {}
