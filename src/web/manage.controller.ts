import { Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { isUUID, validate } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../common/problem/domain-error.js';
import { RateLimited } from '../common/rate-limit.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { LedgerService, type NotificationView } from '../delivery/ledger.service.js';
import { EVENT_TYPES } from '../people/custody-status.js';
import { QuietHoursDto, type RegistrationViewDto, type UpdateRegistrationDto } from '../registrations/registration.dto.js';
import { type RegistrationAccess, RegistrationsService } from '../registrations/registrations.service.js';
import { VerificationService } from '../registrations/verification.service.js';
import { codeRefusal } from './code-errors.js';
import { TIME_ZONES } from './time-zones.js';
import { checkedValues, textField } from './form-input.js';
import { isLang, messages, type Lang } from '../i18n/messages.js';
import { type FieldProblem, Pages } from './pages.js';
import { langOf } from './page-paths.js';
import { type VictimSession, VictimSessions } from './victim-session.js';

/** What the page says was just done, from `?saved=`: a word, never victim data. */
const SAVED = ['language', 'events', 'quiet', 'code'] as const;
const TOKEN_ACCESS: RegistrationAccess = { kind: 'token' };

interface PreferenceForm {
  language: string;
  eventTypes: string[];
  quietStart: string;
  quietEnd: string;
  timeZone: string;
}

/**
 * The victim's own registration, opened by the manage link in every alert: what they signed up for,
 * every alert and how it reached them, their preferences, and stopping all alerts. The same services
 * as `/v1/registrations/{id}` with the manage token, which the sealed session cookie holds.
 */
@ApiExcludeController()
@Controller(['en', 'es'])
export class ManageController {
  constructor(
    private readonly pages: Pages,
    private readonly sessions: VictimSessions,
    private readonly registrations: RegistrationsService,
    private readonly verification: VerificationService,
    private readonly ledger: LedgerService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('manage')
  @RateLimited('public')
  async manage(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const lang = langOf(req);
    if (req.query && typeof req.query === 'object' && 'token' in req.query) return this.openLink(req, reply, lang);
    const session = await this.sessions.current(req);
    if (!session) return this.noSession(req, reply, lang);
    const saved = textField(req.query, 'saved', 20);
    await this.renderManage(req, reply, lang, session, { saved: SAVED.find((s) => s === saved) });
  }

  @Post('manage/language')
  async changeLanguage(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.change(req, reply, 'language', (form) =>
      isLang(form.language) ? { dto: { language: form.language } } : { field: 'language' },
    );
  }

  @Post('manage/events')
  async changeEvents(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    // None ticked means every event, as at sign-up.
    await this.change(req, reply, 'events', (form) => ({
      dto: { eventTypes: form.eventTypes.length ? (form.eventTypes as UpdateRegistrationDto['eventTypes']) : [...EVENT_TYPES] },
    }));
  }

  @Post('manage/quiet-hours')
  async changeQuietHours(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.change(req, reply, 'quiet', async (form) => {
      if (!form.quietStart && !form.quietEnd) return { dto: { quietHours: null } };
      const quietHours = plainToInstance(QuietHoursDto, { start: form.quietStart, end: form.quietEnd, timeZone: form.timeZone });
      const fields: Record<string, keyof PreferenceForm> = { start: 'quietStart', end: 'quietEnd', timeZone: 'timeZone' };
      const wrong = (await validate(quietHours)).map((error) => fields[error.property]).filter(Boolean);
      return wrong.length ? { fields: wrong } : { dto: { quietHours: { ...quietHours } } };
    });
  }

  @Post('manage/resend')
  @RateLimited('public', 'signup')
  async resendCode(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const lang = langOf(req);
    const session = await this.sessions.current(req);
    if (!session) return this.noSession(req, reply, lang);
    const t = messages(lang).manage;
    const contactId = textField(req.body, 'contactId', 64);
    const view = await this.registrations.view(session.registrationId, TOKEN_ACCESS);
    const contact = isUUID(contactId) ? view.contacts.find((c) => c.contactId === contactId && !c.verified) : undefined;
    if (!contact)
      return this.renderManage(req, reply, lang, session, { errors: [{ field: 'contactId', message: t.errors.contactId }] }, 422);
    try {
      await this.verification.resend(session.registrationId, contact.contactId);
    } catch (error) {
      const refusal = codeRefusal(error, lang, reply);
      if (!refusal) throw error;
      return this.renderManage(req, reply, lang, session, { errors: [{ field: 'contactId', message: refusal.message }] }, refusal.status);
    }
    this.pages.redirect(reply, `/${lang}/manage?saved=code`);
  }

  @Get('manage/stop')
  async confirmStop(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const lang = langOf(req);
    const session = await this.sessions.current(req);
    if (!session) return this.noSession(req, reply, lang);
    const registration = await this.registrations.view(session.registrationId, TOKEN_ACCESS);
    if (registration.status === 'stopped') return this.pages.redirect(reply, `/${lang}/manage`);
    await this.pages.render(req, reply, lang, 'manage-stop', { title: messages(lang).manage.stopTitle, registration });
  }

  /**
   * Ends the registration as `DELETE /v1/registrations/{id}` does, then forgets the session: with
   * nothing left to manage, a browser that keeps it would only keep, for whoever picks up the phone
   * next, a page naming the person the victim followed.
   */
  @Post('manage/stop')
  async stop(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const lang = langOf(req);
    const session = await this.sessions.current(req);
    if (!session) return this.noSession(req, reply, lang);
    await this.registrations.stop(session.registrationId, TOKEN_ACCESS);
    this.sessions.clear(reply);
    await this.pages.render(req, reply, lang, 'manage-stopped', { title: messages(lang).manage.stoppedTitle });
  }

  /**
   * The manage link: its token becomes the session and leaves the address bar at once. A token that
   * never existed and one whose registration ended get the same page.
   */
  private async openLink(req: FastifyRequest, reply: FastifyReply, lang: Lang): Promise<void> {
    const token = textField(req.query, 'token', 200);
    const registrationId = token ? await this.registrations.openByManageToken(token) : undefined;
    if (!registrationId) {
      const t = messages(lang).manage;
      return this.pages.render(req, reply, lang, 'manage-message', { title: t.badLinkTitle, message: t.badLink, search: true }, 404);
    }
    this.sessions.write(reply, { registrationId, manageToken: token });
    this.pages.redirect(reply, `/${lang}/manage`);
  }

  private async noSession(req: FastifyRequest, reply: FastifyReply, lang: Lang): Promise<void> {
    const t = messages(lang).manage;
    await this.pages.render(req, reply, lang, 'manage-message', { title: t.noSessionTitle, message: t.noSession, help: true }, 401);
  }

  /** One of the preference forms: read, check, save through the API's update, then 303 back with a confirmation. */
  private async change(
    req: FastifyRequest,
    reply: FastifyReply,
    saved: (typeof SAVED)[number],
    read: (
      form: PreferenceForm,
    ) =>
      | { dto: UpdateRegistrationDto }
      | { field: keyof PreferenceForm }
      | { fields: (keyof PreferenceForm)[] }
      | Promise<{ dto: UpdateRegistrationDto } | { fields: (keyof PreferenceForm)[] }>,
  ): Promise<void> {
    const lang = langOf(req);
    const session = await this.sessions.current(req);
    if (!session) return this.noSession(req, reply, lang);
    const t = messages(lang).manage;
    const form: PreferenceForm = {
      language: textField(req.body, 'language', 10),
      eventTypes: checkedValues(req.body, 'eventTypes', EVENT_TYPES),
      quietStart: textField(req.body, 'quietStart', 10),
      quietEnd: textField(req.body, 'quietEnd', 10),
      timeZone: textField(req.body, 'timeZone', 64),
    };
    const result = await read(form);
    if (!('dto' in result)) {
      const fields = 'field' in result ? [result.field] : result.fields;
      const errors: FieldProblem[] = fields.map((field) => ({ field, message: t.errors[field as keyof typeof t.errors] }));
      return this.renderManage(req, reply, lang, session, { errors, form }, 422);
    }
    try {
      await this.registrations.update(session.registrationId, result.dto, TOKEN_ACCESS);
    } catch (error) {
      if (!(error instanceof DomainError) || error.code !== 'REGISTRATION_STOPPED') throw error;
      return this.renderManage(req, reply, lang, session, { notice: t.errors.stopped }, 409);
    }
    const to = result.dto.language ?? lang;
    this.pages.redirect(reply, `/${to}/manage?saved=${saved}`);
  }

  private async renderManage(
    req: FastifyRequest,
    reply: FastifyReply,
    lang: Lang,
    session: VictimSession,
    extra: { saved?: string; errors?: FieldProblem[]; form?: PreferenceForm; notice?: string },
    status = 200,
  ): Promise<void> {
    const registration = await this.registrations.view(session.registrationId, TOKEN_ACCESS);
    const alerts = await this.ledger.forRegistration(session.registrationId);
    const timeZone = registration.quietHours?.timeZone ?? this.config.defaultTimeZone;
    await this.pages.render(
      req,
      reply,
      lang,
      'manage',
      {
        title: messages(lang).manage.title,
        registration,
        alerts: alerts.map((alert) => ({ ...alert, deliveries: alert.deliveries.map((d) => ({ ...d, at: lastTime(d) })) })),
        timeZone,
        form: extra.form ?? formOf(registration),
        allEventTypes: EVENT_TYPES,
        timeZones: zonesWith(timeZone, TIME_ZONES),
        saved: extra.saved,
        notice: extra.notice,
        errors: extra.errors ?? [],
      },
      status,
    );
  }
}

/** When a delivery last moved, as far as the ledger knows: its newest attempt. */
function lastTime(delivery: NotificationView['deliveries'][number]): string | null {
  const last = delivery.attempts.at(-1);
  return last ? (last.finishedAt ?? last.startedAt) : null;
}

function formOf(registration: RegistrationViewDto): PreferenceForm {
  const all = registration.eventTypes.length === EVENT_TYPES.length;
  return {
    language: registration.language,
    eventTypes: all ? [] : registration.eventTypes,
    quietStart: registration.quietHours?.start ?? '',
    quietEnd: registration.quietHours?.end ?? '',
    timeZone: registration.quietHours?.timeZone ?? '',
  };
}

/** The zones offered, with the registration's own kept when it is not among them. */
function zonesWith(current: string, offered: string[]): string[] {
  return offered.includes(current) ? offered : [current, ...offered];
}
