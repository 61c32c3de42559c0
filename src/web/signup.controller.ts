import { Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { isUUID, validate } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../common/problem/domain-error.js';
import { RateLimited } from '../common/rate-limit.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { EVENT_TYPES, URGENT_EVENT_TYPES } from '../people/custody-status.js';
import { PeopleService } from '../people/people.service.js';
import { CreateRegistrationDto, type RegistrationViewDto, VerifyCodeDto } from '../registrations/registration.dto.js';
import { RegistrationsService } from '../registrations/registrations.service.js';
import { VerificationService } from '../registrations/verification.service.js';
import { codeRefusal } from './code-errors.js';
import { TIME_ZONES } from './time-zones.js';
import {
  checkRegistrationForm,
  emptyRegistrationForm,
  FIELD_MAX,
  ProblemList,
  readRegistrationForm,
  type RegistrationForm,
  registrationInput,
} from './registration-form.js';
import { textField } from './form-input.js';
import { messages, type Lang } from '../i18n/messages.js';
import { type FieldProblem, Pages } from './pages.js';
import { langOf } from './page-paths.js';
import { VictimSessions } from './victim-session.js';

const NOT_FOUND = () => new DomainError('not_found', 'PERSON_NOT_FOUND', 'No such person.');

/** Sign up, verify each contact, and the confirmation: the same services as `POST /v1/registrations` and its verify routes. */
@ApiExcludeController()
@Controller(['en', 'es'])
export class SignupController {
  constructor(
    private readonly pages: Pages,
    private readonly people: PeopleService,
    private readonly registrations: RegistrationsService,
    private readonly verification: VerificationService,
    private readonly sessions: VictimSessions,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('people/:personId/register')
  @RateLimited('public')
  async registerForm(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const lang = langOf(req);
    const person = await this.registrablePerson(req);
    await this.renderForm(req, reply, lang, person, this.emptyForm(), []);
  }

  @Post('people/:personId/register')
  @RateLimited('public', 'signup')
  async register(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const lang = langOf(req);
    const t = messages(lang).signup;
    const person = await this.registrablePerson(req);
    const { form, pin } = readRegistrationForm(req.body);
    const { plain, contacts } = registrationInput(form, pin, { personId: person.personId, language: lang });
    const problems = new ProblemList(t);
    const dto = await checkRegistrationForm(CreateRegistrationDto, { form, pin, plain, contacts }, problems, this.config.phoneCountries);
    if (problems.any()) return this.renderForm(req, reply, lang, person, form, problems.list, 422);

    try {
      const created = await this.registrations.create(dto);
      this.sessions.write(reply, { registrationId: created.registrationId, manageToken: created.manageToken });
      this.pages.redirect(reply, `/${lang}/verify`);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      // The person became protected (or was hidden) while the form was open: the same page as an unknown person.
      if (error.code === 'PERSON_NOT_FOUND') throw NOT_FOUND();
      if (error.kind !== 'invalid') throw error;
      for (const fieldError of error.options.errors ?? [{ path: '', message: error.message }]) problems.addApiError(fieldError, contacts);
      return this.renderForm(req, reply, lang, person, form, problems.list, 422);
    }
  }

  /**
   * Without a session there is nothing to verify: a page that says how to start, with 401 as the API
   * answers a request without its token. A redirect to search would drop someone whose sign-up
   * ended (a day without a code) without telling them why.
   */
  @Get('verify')
  async verifyPage(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const lang = langOf(req);
    const view = await this.currentRegistration(req);
    // Stopped alerts have nothing to verify or confirm; the manage page says they stopped.
    if (!view || view.status === 'stopped') return this.renderNoSession(req, reply, lang);
    await this.renderVerify(req, reply, lang, view);
  }

  @Post('verify')
  @RateLimited('public')
  async verify(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const lang = langOf(req);
    const t = messages(lang).signup;
    const session = await this.sessions.current(req);
    if (!session) return this.renderNoSession(req, reply, lang);
    const contact = await this.postedContact(req, session.registrationId);
    const code = textField(req.body, 'code', FIELD_MAX);
    const fieldOf = `code-${contact.contactId}`;
    if ((await validate(plainToInstance(VerifyCodeDto, { code }))).length) {
      return this.renderVerify(req, reply, lang, await this.view(session.registrationId), [
        { field: fieldOf, message: t.codeErrors.format },
      ]);
    }
    try {
      await this.verification.verify(session.registrationId, contact.contactId, code);
    } catch (error) {
      return this.renderRefusal(req, reply, lang, session.registrationId, fieldOf, error);
    }
    this.pages.redirect(reply, `/${lang}/verify`);
  }

  /** A new code, or a new call: the API's resend-code, rate limited alike. */
  @Post('verify/resend')
  @RateLimited('public', 'signup')
  async resend(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const lang = langOf(req);
    const t = messages(lang).signup;
    const session = await this.sessions.current(req);
    if (!session) return this.renderNoSession(req, reply, lang);
    const contact = await this.postedContact(req, session.registrationId);
    try {
      await this.verification.resend(session.registrationId, contact.contactId);
    } catch (error) {
      return this.renderRefusal(req, reply, lang, session.registrationId, `code-${contact.contactId}`, error);
    }
    await this.renderVerify(req, reply, lang, await this.view(session.registrationId), [], {
      [contact.contactId]: contact.channel === 'voice' ? t.resentCall : t.resent,
    });
  }

  private async registrablePerson(req: FastifyRequest): Promise<{ personId: string; displayName: string }> {
    const personId = (req.params as { personId?: string }).personId;
    const person = typeof personId === 'string' && isUUID(personId) ? await this.people.findRegistrable(personId) : undefined;
    if (!person) throw NOT_FOUND();
    return person;
  }

  private emptyForm(): RegistrationForm {
    return emptyRegistrationForm(TIME_ZONES.includes(this.config.defaultTimeZone) ? this.config.defaultTimeZone : TIME_ZONES[0]);
  }

  private async renderForm(
    req: FastifyRequest,
    reply: FastifyReply,
    lang: Lang,
    person: { displayName: string },
    form: RegistrationForm,
    errors: FieldProblem[],
    status = 200,
  ): Promise<void> {
    const t = messages(lang).signup;
    const zones = TIME_ZONES.includes(form.timeZone) || !form.timeZone ? TIME_ZONES : [...TIME_ZONES, form.timeZone];
    await this.pages.render(
      req,
      reply,
      lang,
      'register',
      {
        title: t.registerTitle,
        person,
        form,
        errors,
        eventTypes: EVENT_TYPES,
        timeZones: zones.map((value) => ({ value, label: t.timeZones[value] ?? value })),
        action: req.url.split('?', 1)[0],
      },
      status,
    );
  }

  private async currentRegistration(req: FastifyRequest): Promise<RegistrationViewDto | undefined> {
    const session = await this.sessions.current(req);
    return session && this.view(session.registrationId);
  }

  private view(registrationId: string): Promise<RegistrationViewDto> {
    return this.registrations.view(registrationId, { kind: 'token' });
  }

  /** The contact a verify form names, if it belongs to this browser's registration; any other value is a stale or crafted form. */
  private async postedContact(req: FastifyRequest, registrationId: string): Promise<RegistrationViewDto['contacts'][number]> {
    const contactId = textField(req.body, 'contactId', FIELD_MAX);
    const contact = (await this.view(registrationId)).contacts.find((c) => c.contactId === contactId);
    if (!contact) throw new DomainError('invalid', 'CONTACT_NOT_FOUND', 'No such contact.');
    return contact;
  }

  private async renderNoSession(req: FastifyRequest, reply: FastifyReply, lang: Lang): Promise<void> {
    const t = messages(lang).signup;
    await this.pages.render(req, reply, lang, 'verify-start', { title: t.noSessionTitle }, 401);
  }

  /** The verify page again with the service's refusal at the contact's code field; any other error goes on up. */
  private async renderRefusal(
    req: FastifyRequest,
    reply: FastifyReply,
    lang: Lang,
    registrationId: string,
    field: string,
    error: unknown,
  ): Promise<void> {
    const refusal = codeRefusal(error, lang, reply);
    if (!refusal) throw error;
    await this.renderVerify(req, reply, lang, await this.view(registrationId), [{ field, message: refusal.message }], {}, refusal.status);
  }

  private async renderVerify(
    req: FastifyRequest,
    reply: FastifyReply,
    lang: Lang,
    view: RegistrationViewDto,
    errors: FieldProblem[] = [],
    notices: Record<string, string> = {},
    status = 200,
  ): Promise<void> {
    const t = messages(lang).signup;
    const pending = view.contacts.filter((c) => !c.verified);
    const timeZone = view.quietHours?.timeZone ?? this.config.defaultTimeZone;
    if (!pending.length) {
      const channels = new Set(view.contacts.map((c) => c.channel));
      await this.pages.render(
        req,
        reply,
        lang,
        'confirmed',
        {
          title: t.confirmedTitle,
          registration: view,
          timeZone,
          timeZoneLabel: t.timeZones[timeZone] ?? timeZone,
          allEvents: view.eventTypes.length === EVENT_TYPES.length,
          urgentChosen: view.eventTypes.some((type) => URGENT_EVENT_TYPES.includes(type)),
          calls: channels.has('voice'),
          texts: channels.has('sms'),
          voicePolicy: this.config.voice,
          escalateAfterMinutes: this.config.escalateAfterMinutes,
        },
        status,
      );
      return;
    }
    await this.pages.render(req, reply, lang, 'verify', { title: t.verifyTitle, registration: view, errors, notices, timeZone }, status);
  }
}
