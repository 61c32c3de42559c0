import { Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { DomainError } from '../../common/problem/domain-error.js';
import { UuidParam } from '../../common/problem/input-rules.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { EVENT_TYPES } from '../../people/custody-status.js';
import { type EnrolmentCandidate, PeopleService } from '../../people/people.service.js';
import { CreateEnrollmentDto, LANGUAGES } from '../../registrations/registration.dto.js';
import { RegistrationsService } from '../../registrations/registrations.service.js';
import { messages } from '../../i18n/messages.js';
import { isTicked, malformedFields, textField } from '../form-input.js';
import { emptySearch, identifierSystemOptions, readPersonSearch } from '../person-search.js';
import type { FieldProblem } from '../pages.js';
import {
  checkRegistrationForm,
  emptyRegistrationForm,
  FIELD_MAX,
  ProblemList,
  readRegistrationForm,
  type RegistrationForm,
  registrationInput,
} from '../registration-form.js';
import { TIME_ZONES } from '../time-zones.js';
import { type ConsoleRequest, ConsolePages } from './console-pages.js';
import { ConsoleNotices } from './console-notice.js';
import { ConsoleOnly } from './console.guard.js';
import { ConsoleSessions } from './console-session.js';
import { seeOther } from '../pages.js';

/** The enrolment form: the sign-up form's fields, and what only a specialist gives. */
interface EnrolForm extends RegistrationForm {
  registrantName: string;
  language: string;
  sendConfirmation: boolean;
}

const NAME_MAX = 200;

/** The form's one-value fields: each posted as one string, or not at all. */
const FORM_FIELDS = [
  'registrantName',
  'language',
  'email',
  'phone',
  'sms',
  'voice',
  'pin',
  'quietStart',
  'quietEnd',
  'timeZone',
  'sendConfirmation',
];

/**
 * Enrol a victim: find the person (the public search, plus minors, plus protected persons for
 * admins), then the form; the same service as `POST /v1/enrollments`, confirmation included.
 */
@ApiExcludeController()
@Controller('console/enrol')
@ConsoleOnly('specialist')
export class EnrolController {
  constructor(
    private readonly pages: ConsolePages,
    private readonly sessions: ConsoleSessions,
    private readonly notices: ConsoleNotices,
    private readonly people: PeopleService,
    private readonly registrations: RegistrationsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  async search(@Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const t = messages(this.sessions.lang(req, reply));
    const asked = ['identifier', 'lastName', 'firstName'].some((name) => textField(req.query, name));
    const { form, query, problems } = asked
      ? await readPersonSearch(req.query, t.search)
      : { form: emptySearch(), query: undefined, problems: [] };
    const people =
      asked && !problems.length
        ? await this.people.searchForEnrolment(query!, { staff: req.consoleStaff!, clientAddress: req.ip })
        : undefined;
    await this.pages.render(
      req,
      reply,
      'enrol-search',
      { title: t.console.enrolTitle, form, errors: problems, people, identifierSystems: identifierSystemOptions(this.config, t.search) },
      problems.length ? 422 : 200,
    );
  }

  @Get(':personId')
  async form(@Param('personId', UuidParam) personId: string, @Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const person = await this.enrollable(req, personId);
    const timeZone = TIME_ZONES.includes(this.config.defaultTimeZone) ? this.config.defaultTimeZone : TIME_ZONES[0];
    const form: EnrolForm = {
      ...emptyRegistrationForm(timeZone),
      registrantName: '',
      language: this.sessions.lang(req, reply),
      sendConfirmation: true,
    };
    await this.renderForm(req, reply, person, form, []);
  }

  @Post(':personId')
  async enrol(@Param('personId', UuidParam) personId: string, @Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const t = messages(this.sessions.lang(req, reply));
    const person = await this.enrollable(req, personId);
    // A browser sends only the form's own fields; anything else is a crafted request, refused whole.
    const known = new Set<string>([...FORM_FIELDS, 'eventTypes', '_csrf']);
    if (Object.keys(req.body ?? {}).some((name) => !known.has(name))) {
      throw new DomainError('invalid', 'FORM_INVALID', 'The form has a field it never sends.');
    }
    const { form: shared, pin } = readRegistrationForm(req.body);
    const form: EnrolForm = {
      ...shared,
      registrantName: textField(req.body, 'registrantName', FIELD_MAX),
      language: textField(req.body, 'language', FIELD_MAX),
      // An unticked box sends nothing: absent means "do not send".
      sendConfirmation: isTicked(req.body, 'sendConfirmation'),
    };
    const { plain, contacts } = registrationInput(form, pin, {
      personId: person.personId,
      language: form.language,
      ...(form.registrantName ? { registrantName: form.registrantName } : {}),
      sendConfirmation: form.sendConfirmation,
    });
    const words = { ...t.signup, errors: { ...t.signup.errors, ...t.console.enrol.errors } };
    const problems = new ProblemList(words, {
      before: ['registrantName', 'language'],
      paths: { registrantName: ['registrantName', t.console.enrol.nameInvalid], language: ['language', t.console.enrol.languageInvalid] },
    });
    for (const field of malformedFields(req.body, FORM_FIELDS, { eventTypes: EVENT_TYPES })) {
      if (field === 'registrantName') problems.addMessage(field, t.console.enrol.nameInvalid);
      else if (field === 'language') problems.addMessage(field, t.console.enrol.languageInvalid);
      else problems.addMessage(field, words.errors[field in words.errors ? (field as keyof typeof words.errors) : 'other']);
    }
    // The name is cut at FIELD_MAX when read; longer than the API allows is refused, not cut again.
    if (form.registrantName.length > NAME_MAX) problems.addMessage('registrantName', t.console.enrol.nameInvalid);
    if (!(LANGUAGES as readonly string[]).includes(form.language)) problems.addMessage('language', t.console.enrol.languageInvalid);
    const dto = await checkRegistrationForm(CreateEnrollmentDto, { form, pin, plain, contacts }, problems, this.config.phoneCountries);
    if (problems.any()) return this.renderForm(req, reply, person, form, problems.list, 422);

    try {
      const created = await this.registrations.create(dto, { staff: req.consoleStaff!, clientAddress: req.ip });
      const confirmation = !form.sendConfirmation
        ? 'none'
        : person.protected
          ? 'withheld'
          : created.confirmation?.deliveries
            ? 'sent'
            : 'unreachable';
      this.notices.set(reply, 'enrolled', confirmation);
      seeOther(reply, `/console/victims/${created.registrationId}`);
    } catch (error) {
      if (!(error instanceof DomainError) || error.kind !== 'invalid') throw error;
      for (const fieldError of error.options.errors ?? [{ path: '', message: error.message }]) {
        if (fieldError.path === 'personId') problems.addMessage('registrantName', t.console.enrol.personGone);
        else problems.addApiError(fieldError, contacts);
      }
      return this.renderForm(req, reply, person, form, problems.list, 422);
    }
  }

  /** The person named in the address, if this staff member may enrol for them; 404 alike otherwise. */
  private async enrollable(req: ConsoleRequest, personId: string): Promise<EnrolmentCandidate> {
    const person = await this.people.enrollable(personId, req.consoleStaff!);
    if (!person) throw new DomainError('not_found', 'PERSON_NOT_FOUND', 'No such person.');
    return person;
  }

  private async renderForm(
    req: ConsoleRequest,
    reply: FastifyReply,
    person: EnrolmentCandidate,
    form: EnrolForm,
    errors: FieldProblem[],
    status = 200,
  ): Promise<void> {
    const t = messages(this.sessions.lang(req, reply));
    const zones = TIME_ZONES.includes(form.timeZone) || !form.timeZone ? TIME_ZONES : [...TIME_ZONES, form.timeZone];
    await this.pages.render(
      req,
      reply,
      'enrol',
      {
        title: t.console.enrolTitle,
        person,
        form,
        errors,
        eventTypes: EVENT_TYPES,
        languages: LANGUAGES,
        timeZones: zones.map((value) => ({ value, label: t.signup.timeZones[value] ?? value })),
        action: `/console/enrol/${person.personId}`,
      },
      status,
    );
  }
}
