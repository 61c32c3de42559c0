import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module.js';
import { DirectoryModule } from '../directory/directory.module.js';
import { IngestionModule } from '../ingestion/ingestion.module.js';
import { PeopleModule } from '../people/people.module.js';
import { RegistrationsModule } from '../registrations/registrations.module.js';
import { SourcesModule } from '../sources/sources.module.js';
import { ConsoleOverview } from './console/console-overview.service.js';
import { ConsolePages } from './console/console-pages.js';
import { ConsoleController } from './console/console.controller.js';
import { ConsoleNotices } from './console/console-notice.js';
import { EnrolController } from './console/enrol.controller.js';
import { ConsoleGuard } from './console/console.guard.js';
import { ConsoleSessions } from './console/console-session.js';
import { EscalationsPagesController } from './console/escalations.controller.js';
import { OperationsController } from './console/operations.controller.js';
import { ProtectionController } from './console/protection.controller.js';
import { SourcesPagesController } from './console/sources.controller.js';
import { ReportsController } from './console/reports.controller.js';
import { ServicesPagesController } from './console/services.controller.js';
import { VictimsController } from './console/victims.controller.js';
import { StaffPagesController } from './console/staff.controller.js';
import { AuditPagesController } from './console/audit.controller.js';
import { ManageController } from './manage.controller.js';
import { Pages } from './pages.js';
import { LanguageRedirectController, PortalController } from './portal.controller.js';
import { SignupController } from './signup.controller.js';
import { VictimSessions } from './victim-session.js';

/** The victim pages and the staff console: server-rendered HTML on the same services as the API. */
@Module({
  imports: [PeopleModule, SourcesModule, RegistrationsModule, DeliveryModule, IngestionModule, DirectoryModule],
  controllers: [
    LanguageRedirectController,
    PortalController,
    SignupController,
    ManageController,
    ConsoleController,
    VictimsController,
    EscalationsPagesController,
    EnrolController,
    OperationsController,
    SourcesPagesController,
    ProtectionController,
    ReportsController,
    StaffPagesController,
    AuditPagesController,
    ServicesPagesController,
  ],
  providers: [Pages, VictimSessions, ConsoleOverview, ConsolePages, ConsoleSessions, ConsoleGuard, ConsoleNotices],
  exports: [Pages, VictimSessions, ConsolePages],
})
export class WebModule {}
