import { Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { isUUID, validate } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type FieldError } from '../common/problem/domain-error.js';
import { inputProblems } from '../common/problem/input-rules.js';
import { toFieldErrors } from '../common/problem/validation.js';
import { RateLimited } from '../common/rate-limit.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { EVENT_TYPES, URGENT_EVENT_TYPES, type EventType } from '../people/custody-status.js';
import { PeopleService } from '../people/people.service.js';
import { type Channel, normalizeAddress, phoneRefusal } from '../registrations/contact-address.js';
import { CreateRegistrationDto, type RegistrationViewDto, VerifyCodeDto } from '../registrations/registration.dto.js';
import { RegistrationsService } from '../registrations/registrations.service.js';
import { VerificationService } from '../registrations/verification.service.js';
import { codeRefusal } from './code-errors.js';
import { TIME_ZONES } from './time-zones.js';
import { checkedValues, isTicked, textField } from './form-input.js';
import { messages, type Lang } from '../i18n/messages.js';
import type { SignupMessages } from '../i18n/signup.js';
import { type FieldProblem, Pages } from './pages.js';
import { langOf } from './page-paths.js';
import { VictimSessions } from './victim-session.js';

/** The sign-up form's fields, as DESIGN names them (the PIN is never kept for the page). */
interface SignupForm {
  email: string;
  phone: string;
  sms: boolean;
  voice: boolean;
  eventTypes: EventType[];
  quietStart: string;
  quietEnd: string;
  timeZone: string;
}

type SignupErrorKey = keyof SignupMessages['errors'];

/** A form posts a few short fields; anything longer is a mistake, cut before it reaches a validator. */
const FIELD_MAX = 300;

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
    const body = req.body;
    const form: SignupForm = {
      email: textField(body, 'email', FIELD_MAX),
      phone: textField(body, 'phone', FIELD_MAX),
      sms: isTicked(body, 'sms'),
      voice: isTicked(body, 'voice'),
      eventTypes: checkedValues(body, 'eventTypes', EVENT_TYPES),
      quietStart: textField(body, 'quietStart', FIELD_MAX),
      quietEnd: textField(body, 'quietEnd', FIELD_MAX),
      timeZone: textField(body, 'timeZone', FIELD_MAX),
    };
    const pin = textField(body, 'pin', FIELD_MAX);

    const contacts: { channel: Channel; address: string }[] = [];
    if (form.email) contacts.push({ channel: 'email', address: form.email });
    if (form.phone && form.sms) contacts.push({ channel: 'sms', address: form.phone });
    if (form.phone && form.voice) contacts.push({ channel: 'voice', address: form.phone });
    const plain = {
      personId: person.personId,
      language: lang,
      ...(pin ? { pin } : {}),
      contacts,
      ...(form.eventTypes.length ? { eventTypes: form.eventTypes } : {}),
      ...(form.quietStart && form.quietEnd ? { quietHours: { start: form.quietStart, end: form.quietEnd, timeZone: form.timeZone } } : {}),
    };

    // What only a form can get wrong (the API has no checkboxes), then the API's own rules.
    const problems = new ProblemList(t);
    if (!form.email && !form.phone) problems.add('email', 'noContact');
    if (form.phone && !form.sms && !form.voice) problems.add('sms', 'phoneHow');
    if (!form.phone && (form.sms || form.voice)) problems.add('phone', 'phoneNeeded');
    if (form.quietStart && !form.quietEnd) problems.add('quietEnd', 'quietEnd');
    if (!form.quietStart && form.quietEnd) problems.add('quietStart', 'quietStart');
    if (form.voice && !pin) problems.add('pin', 'pinNeeded');
    const dto = plainToInstance(CreateRegistrationDto, plain);
    const invalid = [
      ...inputProblems(plain),
      ...toFieldErrors(await validate(dto, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false })),
    ];
    for (const error of invalid) problems.addApiError(error, contacts);
    // The service judges the addresses too; asked here as well, every mistake shows at once.
    contacts.forEach(({ channel, address }, index) => {
      const normalized = normalizeAddress(channel, address);
      if (!normalized || (channel !== 'email' && phoneRefusal(normalized, this.config.phoneCountries))) {
        problems.addApiError({ path: `contacts[${index}].address`, message: 'is not valid' }, contacts);
      }
    });
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

  private emptyForm(): SignupForm {
    const timeZone = TIME_ZONES.includes(this.config.defaultTimeZone) ? this.config.defaultTimeZone : TIME_ZONES[0];
    return { email: '', phone: '', sms: false, voice: false, eventTypes: [], quietStart: '', quietEnd: '', timeZone };
  }

  private async renderForm(
    req: FastifyRequest,
    reply: FastifyReply,
    lang: Lang,
    person: { displayName: string },
    form: SignupForm,
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

/** The form's mistakes, each on the field it belongs to, once, in the order the form shows them. */
class ProblemList {
  readonly list: FieldProblem[] = [];

  constructor(private readonly t: SignupMessages) {}

  any(): boolean {
    return this.list.length > 0;
  }

  add(field: string, key: SignupErrorKey): void {
    if (this.list.some((problem) => problem.field === field)) return;
    this.list.push({ field, message: this.t.errors[key] });
    const order = ['email', 'phone', 'sms', 'pin', 'eventTypes', 'quietStart', 'quietEnd', 'timeZone'];
    this.list.sort((a, b) => order.indexOf(a.field) - order.indexOf(b.field));
  }

  /** An API error path (`contacts[1].address`, `pin`, `quietHours.timeZone`) to the form field that holds it. */
  addApiError(error: FieldError, contacts: { channel: Channel }[]): void {
    const contact = /^contacts\[(\d+)\]/.exec(error.path);
    if (contact) {
      const channel = contacts[Number(contact[1])]?.channel;
      return channel === 'email' ? this.add('email', 'email') : this.add('phone', 'phone');
    }
    const field = error.path.split(/[.[]/, 1)[0];
    const byPath: Record<string, [string, SignupErrorKey]> = {
      contacts: ['email', 'noContact'],
      pin: ['pin', error.message.includes('required') ? 'pinNeeded' : 'pin'],
      eventTypes: ['eventTypes', 'eventTypes'],
      'quietHours.start': ['quietStart', 'quietStart'],
      'quietHours.end': ['quietEnd', 'quietEnd'],
      'quietHours.timeZone': ['timeZone', 'timeZone'],
    };
    const [at, key] = byPath[error.path] ?? byPath[field] ?? ['email', 'other'];
    this.add(at, key);
  }
}
