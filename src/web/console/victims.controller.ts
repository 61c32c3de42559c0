import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { DomainError } from '../../common/problem/domain-error.js';
import { UuidParam } from '../../common/problem/input-rules.js';
import { EscalationsService } from '../../delivery/escalations.service.js';
import { DirectoryService } from '../../directory/directory.service.js';
import { LedgerService } from '../../delivery/ledger.service.js';
import type { RegistrationViewDto } from '../../registrations/registration.dto.js';
import { RegistrationsService } from '../../registrations/registrations.service.js';
import { messages } from '../../i18n/messages.js';
import { textField } from '../form-input.js';
import { type FieldProblem, seeOther } from '../pages.js';
import { type ConsoleRequest, ConsolePages } from './console-pages.js';
import { ConsoleNotices } from './console-notice.js';
import { ConsoleOnly } from './console.guard.js';
import { ConsoleSessions } from './console-session.js';

/** A stop reason is kept sealed on the registration: one line, short, and never contact data (the hint says so). */
const REASON_MAX = 500;

/** A specialist's victims (an admin's: everyone enrolled), escalations first, and each one's timeline. */
@ApiExcludeController()
@Controller('console/victims')
@ConsoleOnly('specialist')
export class VictimsController {
  constructor(
    private readonly pages: ConsolePages,
    private readonly sessions: ConsoleSessions,
    private readonly notices: ConsoleNotices,
    private readonly registrations: RegistrationsService,
    private readonly ledger: LedgerService,
    private readonly escalations: EscalationsService,
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
    const registration = await this.visible(req, id);
    await this.renderTimeline(req, reply, registration, this.notices.take(req, reply));
  }

  /** A new round of a notification to every contact that may receive it, as `POST /v1/notifications/{id}/resend`. */
  @Post(':id/notifications/:notificationId/resend')
  async resend(
    @Param('id', UuidParam) id: string,
    @Param('notificationId', UuidParam) notificationId: string,
    @Req() req: ConsoleRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const registration = await this.visible(req, id);
    // Only this victim's notifications, and none once the alerts stopped.
    const notifications = await this.ledger.forRegistration(id);
    if (registration.status === 'stopped' || !notifications.some((n) => n.notificationId === notificationId)) {
      throw new DomainError('not_found', 'NOTIFICATION_NOT_FOUND', 'No such notification.');
    }
    try {
      const deliveries = await this.ledger.resend(notificationId, { staff: req.consoleStaff!, clientAddress: req.ip });
      this.notices.set(reply, 'resent', String(deliveries));
      seeOther(reply, `/console/victims/${id}`);
    } catch (error) {
      if (!(error instanceof DomainError) || error.code !== 'RESEND_IN_PROGRESS') throw error;
      await this.renderTimeline(req, reply, registration, undefined, { busy: notificationId }, 409);
    }
  }

  /** The confirmation step: what stopping does, and the reason it needs. */
  @Get(':id/stop')
  async stopPage(@Param('id', UuidParam) id: string, @Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const registration = await this.visible(req, id);
    if (registration.status === 'stopped') return seeOther(reply, `/console/victims/${id}`);
    await this.renderStop(req, reply, registration, '', []);
  }

  /** Ends the registration exactly as `DELETE /v1/registrations/{id}` does, its reason sealed on the registration. */
  @Post(':id/stop')
  async stop(@Param('id', UuidParam) id: string, @Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console.timeline;
    const registration = await this.visible(req, id);
    if (registration.status === 'stopped') return seeOther(reply, `/console/victims/${id}`);
    const reason = textField(req.body, 'reason', REASON_MAX + 1);
    if (!reason || reason.length > REASON_MAX || /\p{Cc}/u.test(reason)) {
      return this.renderStop(req, reply, registration, reason.slice(0, REASON_MAX), [{ field: 'reason', message: t.reasonNeeded }], 422);
    }
    await this.registrations.stop(id, { kind: 'staff', staff: req.consoleStaff!, clientAddress: req.ip }, reason);
    this.notices.set(reply, 'stopped');
    seeOther(reply, `/console/victims/${id}`);
  }

  /** 404 alike for a registration that does not exist and one this specialist did not enrol. */
  private visible(req: ConsoleRequest, id: string): Promise<RegistrationViewDto> {
    return this.registrations.view(id, { kind: 'staff', staff: req.consoleStaff!, clientAddress: req.ip });
  }

  private async renderTimeline(
    req: ConsoleRequest,
    reply: FastifyReply,
    registration: RegistrationViewDto,
    notice: ReturnType<ConsoleNotices['take']>,
    options: { busy?: string; shareErrors?: FieldProblem[] } = {},
    status = 200,
  ): Promise<void> {
    const lang = this.sessions.lang(req, reply);
    const t = messages(lang);
    const notifications = await this.ledger.forRegistration(registration.registrationId);
    const handled = await this.escalations.forRegistration(registration.registrationId, req.consoleStaff!);
    const escalations = Object.fromEntries(handled.map((escalation) => [escalation.escalationId, escalation]));
    const stopped = registration.status === 'stopped' ? await this.registrations.stopRecord(registration.registrationId) : undefined;
    // The services directory's section: the active entries, and the one just shared (named by the 303's query).
    const shared = notifications.find((n) => n.notificationId === textField(req.query, 'shared', 40) && n.kind === 'service');
    const share = { services: await this.directory.list(), shared, errors: options.shareErrors ?? [] };
    await this.pages.render(
      req,
      reply,
      'timeline',
      {
        title: t.console.timelineTitle,
        registration,
        notifications,
        escalations,
        share,
        errors: options.shareErrors ?? [],
        stopped,
        notice: notice && this.noticeText(lang, notice, notifications),
        busy: options.busy,
      },
      status,
    );
  }

  /** The words of a one-time notice; an enrolment's names the channels its confirmation went to, from the ledger. */
  private noticeText(
    lang: Parameters<typeof messages>[0],
    { notice, detail }: NonNullable<ReturnType<ConsoleNotices['take']>>,
    notifications: Awaited<ReturnType<LedgerService['forRegistration']>>,
  ): string {
    const t = messages(lang);
    if (notice === 'resent') return t.console.timeline.resent(Number(detail ?? 0));
    if (notice === 'stopped') return t.console.timeline.stopped;
    const e = t.console.enrol;
    if (detail === 'sent') {
      const confirmation = notifications.find((n) => n.kind === 'enrolled');
      const channels = [...new Set(confirmation?.deliveries.map((d) => d.channel) ?? [])];
      return channels.length ? e.noticeSent(channels.map((c) => t.manage.channel[c]).join(', ')) : e.noticeNoContact;
    }
    return detail === 'withheld' ? e.noticeWithheld : detail === 'unreachable' ? e.noticeNoContact : e.noticeNone;
  }

  private async renderStop(
    req: ConsoleRequest,
    reply: FastifyReply,
    registration: RegistrationViewDto,
    reason: string,
    errors: FieldProblem[],
    status = 200,
  ): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console.timeline;
    await this.pages.render(req, reply, 'stop', { title: t.stopTitle, registration, reason, errors }, status);
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
      const registration = await this.visible(req, id);
      await this.renderTimeline(
        req,
        reply,
        registration,
        undefined,
        { shareErrors: [{ field: 'serviceId', message: t.unavailable }] },
        422,
      );
    }
  }
}
