import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { UuidParam } from '../../common/problem/input-rules.js';
import { EscalationsService } from '../../delivery/escalations.service.js';
import { LedgerService } from '../../delivery/ledger.service.js';
import { RegistrationsService } from '../../registrations/registrations.service.js';
import { messages } from '../../i18n/messages.js';
import { type ConsoleRequest, ConsolePages } from './console-pages.js';
import { ConsoleOnly } from './console.guard.js';
import { ConsoleSessions } from './console-session.js';

/** A specialist's victims (an admin's: everyone enrolled), escalations first, and each one's timeline. */
@ApiExcludeController()
@Controller('console/victims')
@ConsoleOnly('specialist')
export class VictimsController {
  constructor(
    private readonly pages: ConsolePages,
    private readonly sessions: ConsoleSessions,
    private readonly registrations: RegistrationsService,
    private readonly ledger: LedgerService,
    private readonly escalations: EscalationsService,
  ) {}

  @Get()
  async list(@Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console;
    const enrolled = await this.registrations.listEnrollments(req.consoleStaff!, req.ip);
    const last = await this.ledger.lastAlerts(enrolled.map((r) => r.registrationId));
    const lastOf = new Map(last.map((row) => [row.registrationId, row]));
    const victims = enrolled
      .map((registration) => ({ registration, last: lastOf.get(registration.registrationId) }))
      // Escalated first (someone may not know of a release), then the newest alert.
      .sort(
        (a, b) =>
          Number(b.last?.escalated ?? false) - Number(a.last?.escalated ?? false) ||
          (b.last?.occurredAt.getTime() ?? 0) - (a.last?.occurredAt.getTime() ?? 0),
      );
    await this.pages.render(req, reply, 'victims', { title: t.victimsTitle, victims });
  }

  @Get(':id')
  async timeline(@Param('id', UuidParam) id: string, @Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console;
    // 404 alike for a registration that does not exist and one this specialist did not enrol.
    const registration = await this.registrations.view(id, { kind: 'staff', staff: req.consoleStaff!, clientAddress: req.ip });
    const notifications = await this.ledger.forRegistration(id);
    const handled = await this.escalations.forRegistration(id, req.consoleStaff!);
    const escalations = Object.fromEntries(handled.map((escalation) => [escalation.escalationId, escalation]));
    await this.pages.render(req, reply, 'timeline', { title: t.timelineTitle, registration, notifications, escalations });
  }
}
