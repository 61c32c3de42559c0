import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { DomainError } from '../../common/problem/domain-error.js';
import { UuidParam } from '../../common/problem/input-rules.js';
import { DirectoryService } from '../../directory/directory.service.js';
import { LedgerService } from '../../delivery/ledger.service.js';
import { RegistrationsService } from '../../registrations/registrations.service.js';
import { messages } from '../../i18n/messages.js';
import { textField } from '../form-input.js';
import { type FieldProblem, seeOther } from '../pages.js';
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
    private readonly directory: DirectoryService,
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
    await this.renderTimeline(req, reply, id, []);
  }

  /** Shares a directory entry with this victim (the services directory's own section of the page); 303 back with a notice. */
  @Post(':id/services')
  async shareService(@Param('id', UuidParam) id: string, @Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).directory.share;
    const serviceId = textField(req.body, 'serviceId', 40);
    try {
      const sent = await this.directory.share(id, serviceId, { kind: 'staff', staff: req.consoleStaff!, clientAddress: req.ip });
      seeOther(reply, `/console/victims/${id}?shared=${sent.notificationId}#share-service`);
    } catch (error) {
      // An archived entry (or a crafted id) is the form's mistake: the page again, the choice marked.
      if (!(error instanceof DomainError) || error.code !== 'SERVICE_NOT_AVAILABLE') throw error;
      await this.renderTimeline(req, reply, id, [{ field: 'serviceId', message: t.unavailable }], 422);
    }
  }

  private async renderTimeline(req: ConsoleRequest, reply: FastifyReply, id: string, errors: FieldProblem[], status = 200): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console;
    // 404 alike for a registration that does not exist and one this specialist did not enrol.
    const registration = await this.registrations.view(id, { kind: 'staff', staff: req.consoleStaff!, clientAddress: req.ip });
    const notifications = await this.ledger.forRegistration(id);
    const shared = notifications.find((n) => n.notificationId === textField(req.query, 'shared', 40) && n.kind === 'service');
    const share = { services: await this.directory.list(), shared, errors };
    await this.pages.render(req, reply, 'timeline', { title: t.timelineTitle, registration, notifications, share, errors }, status);
  }
}
