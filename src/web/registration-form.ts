import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import type { FieldError } from '../common/problem/domain-error.js';
import { inputProblems } from '../common/problem/input-rules.js';
import { toFieldErrors } from '../common/problem/validation.js';
import { EVENT_TYPES, type EventType } from '../people/custody-status.js';
import { type Channel, normalizeAddress, phoneRefusal } from '../registrations/contact-address.js';
import type { CreateRegistrationDto } from '../registrations/registration.dto.js';
import type { SignupMessages } from '../i18n/signup.js';
import { checkedValues, isTicked, textField } from './form-input.js';
import type { FieldProblem } from './pages.js';

/** The contact, event and quiet-hour fields of the sign-up and enrolment forms, as DESIGN names them (the PIN is never kept for the page). */
export interface RegistrationForm {
  email: string;
  phone: string;
  sms: boolean;
  voice: boolean;
  eventTypes: EventType[];
  quietStart: string;
  quietEnd: string;
  timeZone: string;
}

/** A form posts a few short fields; anything longer is a mistake, cut before it reaches a validator. */
export const FIELD_MAX = 300;

type SignupErrorKey = keyof SignupMessages['errors'];

export function emptyRegistrationForm(timeZone: string): RegistrationForm {
  return { email: '', phone: '', sms: false, voice: false, eventTypes: [], quietStart: '', quietEnd: '', timeZone };
}

export function readRegistrationForm(body: unknown): { form: RegistrationForm; pin: string } {
  return {
    form: {
      email: textField(body, 'email', FIELD_MAX),
      phone: textField(body, 'phone', FIELD_MAX),
      sms: isTicked(body, 'sms'),
      voice: isTicked(body, 'voice'),
      eventTypes: checkedValues(body, 'eventTypes', EVENT_TYPES),
      quietStart: textField(body, 'quietStart', FIELD_MAX),
      quietEnd: textField(body, 'quietEnd', FIELD_MAX),
      timeZone: textField(body, 'timeZone', FIELD_MAX),
    },
    pin: textField(body, 'pin', FIELD_MAX),
  };
}

/** The API body a form stands for: `personId`, `language` and any extra fields (an enrolment's) merged in. */
export function registrationInput(
  form: RegistrationForm,
  pin: string,
  base: Record<string, unknown>,
): { plain: Record<string, unknown>; contacts: { channel: Channel; address: string }[] } {
  const contacts: { channel: Channel; address: string }[] = [];
  if (form.email) contacts.push({ channel: 'email', address: form.email });
  if (form.phone && form.sms) contacts.push({ channel: 'sms', address: form.phone });
  if (form.phone && form.voice) contacts.push({ channel: 'voice', address: form.phone });
  const plain = {
    ...base,
    ...(pin ? { pin } : {}),
    contacts,
    ...(form.eventTypes.length ? { eventTypes: form.eventTypes } : {}),
    ...(form.quietStart && form.quietEnd ? { quietHours: { start: form.quietStart, end: form.quietEnd, timeZone: form.timeZone } } : {}),
  };
  return { plain, contacts };
}

/**
 * What only a form can get wrong (the API has no checkboxes), then the API's own rules on the body
 * it stands for, each on its field. Returns the DTO the service takes.
 */
export async function checkRegistrationForm<T extends CreateRegistrationDto>(
  dtoClass: new () => T,
  input: { form: RegistrationForm; pin: string; plain: Record<string, unknown>; contacts: { channel: Channel; address: string }[] },
  problems: ProblemList,
  phoneCountries: readonly string[],
): Promise<T> {
  const { form, pin, plain, contacts } = input;
  if (!form.email && !form.phone) problems.add('email', 'noContact');
  if (form.phone && !form.sms && !form.voice) problems.add('sms', 'phoneHow');
  if (!form.phone && (form.sms || form.voice)) problems.add('phone', 'phoneNeeded');
  if (form.quietStart && !form.quietEnd) problems.add('quietEnd', 'quietEnd');
  if (!form.quietStart && form.quietEnd) problems.add('quietStart', 'quietStart');
  if (form.voice && !pin) problems.add('pin', 'pinNeeded');
  const dto = plainToInstance(dtoClass, plain);
  const invalid = [
    ...inputProblems(plain),
    ...toFieldErrors(await validate(dto, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false })),
  ];
  for (const error of invalid) problems.addApiError(error, contacts);
  // The service judges the addresses too; asked here as well, every mistake shows at once.
  contacts.forEach(({ channel, address }, index) => {
    const normalized = normalizeAddress(channel, address);
    if (!normalized || (channel !== 'email' && phoneRefusal(normalized, phoneCountries))) {
      problems.addApiError({ path: `contacts[${index}].address`, message: 'is not valid' }, contacts);
    }
  });
  return dto;
}

const FORM_ORDER = ['email', 'phone', 'sms', 'pin', 'eventTypes', 'quietStart', 'quietEnd', 'timeZone'];

/** The form's mistakes, each on the field it belongs to, once, in the order the form shows them. */
export class ProblemList {
  readonly list: FieldProblem[] = [];

  /**
   * `before` and `after`: a form's own fields around the shared ones, in the order it shows them;
   * `own`: the API paths of those fields, each to its field and words.
   */
  constructor(
    private readonly t: SignupMessages,
    private readonly own: { before?: string[]; after?: string[]; paths?: Record<string, [string, string]> } = {},
  ) {}

  any(): boolean {
    return this.list.length > 0;
  }

  add(field: string, key: SignupErrorKey): void {
    this.addMessage(field, this.t.errors[key]);
  }

  addMessage(field: string, message: string): void {
    if (this.list.some((problem) => problem.field === field)) return;
    this.list.push({ field, message });
    const order = [...(this.own.before ?? []), ...FORM_ORDER, ...(this.own.after ?? [])];
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
    const mine = this.own.paths?.[error.path] ?? this.own.paths?.[field];
    if (mine) return this.addMessage(mine[0], mine[1]);
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
