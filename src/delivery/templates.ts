import type { Language } from '../registrations/registration.dto.js';
import { countSegments, fitsGsm, toGsm } from './sms-segments.js';
import { dateTimeFormat } from '../common/date-time-format.js';
import {
  type AlertContext,
  ALERT_TEXT as TEXT,
  MESSAGE_TEXT,
  type MessageContext,
  SAFETY_LINE,
  SERVICE_KIND_LABEL,
  serviceDescription,
  serviceLanguageNames,
  type SharedService,
  WHAT,
} from '../i18n/alerts.js';
import { displayServicePhone, spokenServicePhone, telUri } from '../common/service-phone.js';

export { type AlertContext, type MessageContext, SAFETY_LINE } from '../i18n/alerts.js';

export const VOICE_LANGUAGE: Record<Language, 'en-US' | 'es-US'> = { en: 'en-US', es: 'es-US' };

export const MAX_SMS_SEGMENTS = 2;

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
}

export function phrases(language: Language) {
  return TEXT[language];
}

/**
 * Formatted instants, kept: every alert about one event shows the same instant, in the handful of
 * zones its registrants live in, so a crowd's 100,000 alerts format it a few times instead of
 * 100,000 (ICU formatting was ~5 % of a worker's CPU). Bounded; cleared when full.
 */
const formatted = new Map<string, string>();
const FORMATTED_LIMIT = 10_000;

function formatTime(at: Date, language: Language, timeZone: string, compact = false): string {
  const key = `${language} ${timeZone} ${compact ? 'compact' : 'full'} ${at.getTime()}`;
  let text = formatted.get(key);
  if (text === undefined) {
    const options: Intl.DateTimeFormatOptions = compact
      ? { timeZone, day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit' }
      : { timeZone, dateStyle: 'medium', timeStyle: 'short' };
    text = dateTimeFormat(language === 'es' ? 'es-US' : 'en-US', options)
      .format(at)
      .replace(/\u202f/g, ' ');
    if (formatted.size >= FORMATTED_LIMIT) formatted.clear();
    formatted.set(key, text);
  }
  return text;
}

/** The one sentence that says what happened; `compact` for SMS, where every character counts. */
function headline(c: AlertContext, language: Language, compact = false): string {
  const when = formatTime(c.occurredAt, language, c.timeZone, compact);
  const scheduled = c.scheduledFor ? formatTime(c.scheduledFor, language, c.timeZone, compact) : '';
  const what = WHAT[language][c.eventType](c, when, scheduled);
  if (c.kind === 'correction') return TEXT[language].correction(what.replace(/\.$/, ''));
  // A scheduled date says more than when the schedule was entered.
  const scheduling = c.eventType === 'RELEASE_SCHEDULED' || c.eventType === 'HEARING_SCHEDULED';
  return compact && scheduling ? `${what.replace(/\.$/, '')}.` : `${what} (${when}).`;
}

export function renderEmail(c: AlertContext, language: Language): EmailMessage {
  const t = TEXT[language];
  const lines = [`Vigil: ${headline(c, language)}`, SAFETY_LINE[language], `${t.manage}: ${c.manageUrl}`];
  if (c.unsubscribeUrl) lines.push(`${t.unsubscribe}: ${c.unsubscribeUrl}`);
  const html =
    `<!doctype html><html lang="${language}"><body>` +
    `<p><strong>${escapeHtml(headline(c, language))}</strong></p>` +
    `<p>${escapeHtml(SAFETY_LINE[language])}</p>` +
    `<p><a href="${escapeHtml(c.manageUrl)}">${escapeHtml(t.manage)}</a>` +
    (c.unsubscribeUrl ? ` · <a href="${escapeHtml(c.unsubscribeUrl)}">${escapeHtml(t.unsubscribe)}</a>` : '') +
    `</p></body></html>`;
  return { subject: t.subject(c), text: lines.join('\n\n'), html };
}

/**
 * An SMS alert within two segments, with the manage link: when the link leaves too little room,
 * the text is written in GSM-7 (Spanish without the accents GSM-7 lacks, so a segment holds more
 * than twice as much), then names are shortened. Never the safety line or the link.
 */
export function renderSms(c: AlertContext, language: Language): string {
  const build = (ctx: AlertContext, gsm: boolean) => {
    const text = `Vigil: ${headline(ctx, language, true)} ${SAFETY_LINE[language]} ${ctx.manageUrl}`;
    return gsm ? toGsm(text) : text;
  };
  const fits = (text: string) => countSegments(text).segments <= MAX_SMS_SEGMENTS;
  const whole = build(c, false);
  if (fits(whole)) return whole;
  // In GSM-7 a name in another script would read "???": such a name is named in words instead.
  const readable = (name: string, instead: string) => (fitsGsm(name) ? name : instead);
  c = {
    ...c,
    personName: readable(c.personName, TEXT[language].someone),
    facilityName: readable(c.facilityName, TEXT[language].someFacility),
    toFacilityName: c.toFacilityName ? readable(c.toFacilityName, TEXT[language].someFacility) : c.toFacilityName,
  };
  let text = build(c, true);
  for (const limit of [60, 40, 28, 20, 14, 10, 8]) {
    if (fits(text)) break;
    text = build(
      {
        ...c,
        personName: shorten(c.personName, limit),
        facilityName: shorten(c.facilityName, limit),
        toFacilityName: c.toFacilityName ? shorten(c.toFacilityName, limit) : c.toFacilityName,
      },
      true,
    );
  }
  return text;
}

/** The alert read out in a call; `askPin` false for someone who has just entered the PIN to hear it. */
export function renderVoice(c: AlertContext, language: Language, askPin = true): string {
  const said = `${headline(c, language)} ${SAFETY_LINE[language]}`;
  return askPin ? `${said} ${TEXT[language].confirm}` : said;
}

export function renderVerificationSms(code: string, language: Language): string {
  return TEXT[language].verifyCode(code);
}

export function renderVerificationEmail(code: string, language: Language): EmailMessage {
  const text = TEXT[language].verifyCode(code);
  return {
    subject: TEXT[language].verifySubject,
    text,
    html: `<!doctype html><html lang="${language}"><body><p>${escapeHtml(text)}</p></body></html>`,
  };
}

/**
 * The lines of a shared service, each labelled; absent fields left out. `spoken`: for a call, the
 * number read digit by digit and no website (nobody can click it while listening).
 */
function serviceLines(service: SharedService, language: Language, spoken = false): string[] {
  const m = MESSAGE_TEXT[language];
  const kind = SERVICE_KIND_LABEL[language][service.kind] ?? service.kind;
  const lines = [spoken ? `${service.name}. ${kind}` : `${service.name} (${kind})`];
  if (service.phone) {
    lines.push(
      `${m.phone}: ${spoken ? spokenServicePhone(service.phone, m.extensionSaid) : displayServicePhone(service.phone, m.extension)}`,
    );
  }
  if (service.website && !spoken) lines.push(`${m.website}: ${service.website}`);
  if (service.hours) lines.push(`${m.hours}: ${service.hours}`);
  if (service.area) lines.push(`${m.area}: ${service.area}`);
  if (service.languages?.length) lines.push(`${m.languages}: ${serviceLanguageNames(service.languages, language).join(', ')}`);
  return lines;
}

/** A message staff sent outside any custody event: an enrolment's confirmation, or a service from the directory. */
export function renderMessageEmail(c: MessageContext, language: Language): EmailMessage {
  const m = MESSAGE_TEXT[language];
  const t = TEXT[language];
  const service = c.kind === 'service' ? c.service! : undefined;
  const description = service && serviceDescription(service, language);
  const body = service
    ? [m.service, ...serviceLines(service, language), ...(description ? [description.text] : [])]
    : [m.enrolled(c.personName)];
  const subject = service ? m.serviceSubject(service.name) : m.enrolledSubject;
  const lines = [...body, SAFETY_LINE[language], `${m.howToStop} ${c.manageUrl}`];
  if (c.unsubscribeUrl) lines.push(`${t.unsubscribe}: ${c.unsubscribeUrl}`);
  const paragraph = (line: string) => {
    if (service?.phone && line.startsWith(`${m.phone}: `)) {
      return `<p>${escapeHtml(m.phone)}: <a href="${escapeHtml(telUri(service.phone))}">${escapeHtml(line.slice(m.phone.length + 2))}</a></p>`;
    }
    if (description && line === description.text && description.lang !== language)
      return `<p lang="${description.lang}">${escapeHtml(line)}</p>`;
    return `<p>${escapeHtml(line)}</p>`;
  };
  const html =
    `<!doctype html><html lang="${language}"><body>` +
    body.map(paragraph).join('') +
    `<p><strong>${escapeHtml(SAFETY_LINE[language])}</strong></p>` +
    `<p>${escapeHtml(m.howToStop)} <a href="${escapeHtml(c.manageUrl)}">${escapeHtml(t.manage)}</a>` +
    (c.unsubscribeUrl ? ` · <a href="${escapeHtml(c.unsubscribeUrl)}">${escapeHtml(t.unsubscribe)}</a>` : '') +
    `</p></body></html>`;
  return { subject, text: lines.join('\n\n'), html };
}

/**
 * The same message within two segments: the link and the safety line always; then, as room runs
 * out, GSM-7, a name in another script put in words (a service: its kind), shorter names, and a
 * shared service's website left for the email (its phone number stays).
 */
export function renderMessageSms(c: MessageContext, language: Language): string {
  const m = MESSAGE_TEXT[language];
  const sentence = (text: string) => (/[.…]$/.test(text) ? text : `${text}.`);
  const build = (name: string, service: SharedService | null | undefined, gsm: boolean) => {
    const what =
      c.kind === 'enrolled'
        ? m.enrolledSms(name)
        : [
            m.serviceSms,
            sentence(service!.name),
            service!.phone ? `${m.phone} ${displayServicePhone(service!.phone, m.extension)}.` : '',
            service!.website ?? '',
          ]
            .filter(Boolean)
            .join(' ');
    const text = `Vigil: ${what} ${SAFETY_LINE[language]} ${c.manageUrl} ${m.stopSms}`;
    return gsm ? toGsm(text) : text;
  };
  const fits = (text: string) => countSegments(text).segments <= MAX_SMS_SEGMENTS;
  let text = build(c.personName, c.service, false);
  if (fits(text)) return text;
  const name = fitsGsm(c.personName) ? c.personName : TEXT[language].someone;
  // A service name in a script GSM-7 lacks would read "???": its kind says what it is instead (the email has the name).
  let service = c.service && {
    ...c.service,
    name: fitsGsm(c.service.name) ? c.service.name : (SERVICE_KIND_LABEL[language][c.service.kind] ?? TEXT[language].someone),
  };
  text = build(name, service, true);
  if (!fits(text) && service?.website) {
    service = { ...service, website: null };
    text = build(name, service, true);
  }
  for (const limit of [60, 40, 28, 20, 14, 10, 8]) {
    if (fits(text)) break;
    text = build(shorten(name, limit), service && { ...service, name: shorten(service.name, limit) }, true);
  }
  return text;
}

/** The message read out in a call, then the PIN prompt that confirms it was heard (`askPin` false once it was entered). */
export function renderMessageVoice(c: MessageContext, language: Language, askPin = true): string {
  const m = MESSAGE_TEXT[language];
  const said =
    c.kind === 'enrolled'
      ? `${m.enrolled(c.personName)} ${SAFETY_LINE[language]}`
      : `${m.service} ${serviceLines(c.service!, language, true).join('. ')}. ${SAFETY_LINE[language]}`;
  return askPin ? `${said} ${m.confirm}` : said;
}

function shorten(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}
