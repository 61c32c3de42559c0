import type { EventType } from '../people/custody-status.js';
import type { Language } from '../registrations/registration.dto.js';
import { countSegments, toGsm } from './sms-segments.js';
import { dateTimeFormat } from '../common/date-time-format.js';

export const SAFETY_LINE: Record<Language, string> = {
  en: 'If you are in danger, call 911.',
  es: 'Si está en peligro, llame al 911.',
};

export const VOICE_LANGUAGE: Record<Language, 'en-US' | 'es-US'> = { en: 'en-US', es: 'es-US' };

export const MAX_SMS_SEGMENTS = 2;

export interface AlertContext {
  kind: 'alert' | 'correction';
  eventType: EventType;
  personName: string;
  facilityName: string;
  toFacilityName?: string | null;
  occurredAt: Date;
  scheduledFor?: Date | null;
  timeZone: string;
  manageUrl: string;
  unsubscribeUrl?: string;
}

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
}

type Phrase = (c: AlertContext, when: string, scheduled: string) => string;

const WHAT: Record<Language, Record<EventType, Phrase>> = {
  en: {
    BOOKED: (c) => `${c.personName} was booked into ${c.facilityName}`,
    RELEASED: (c) => `${c.personName} was RELEASED from ${c.facilityName}`,
    TRANSFERRED: (c) => `${c.personName} was transferred from ${c.facilityName} to ${c.toFacilityName ?? 'another facility'}`,
    ESCAPED: (c) => `${c.personName} ESCAPED from ${c.facilityName}`,
    RETURNED_TO_CUSTODY: (c) => `${c.personName} is back in custody at ${c.facilityName}`,
    DECEASED: (c) => `${c.personName} is reported deceased (${c.facilityName})`,
    REMOVED: (c) => `${c.personName} was removed from the United States (${c.facilityName})`,
    RELEASE_SCHEDULED: (c, _w, s) => `${c.personName} is scheduled for release from ${c.facilityName} on ${s}`,
    HEARING_SCHEDULED: (c, _w, s) => `${c.personName} has a hearing scheduled for ${s}`,
    CORRECTION: (c) => `A notice about ${c.personName} was corrected`,
  },
  es: {
    BOOKED: (c) => `${c.personName} fue ingresado en ${c.facilityName}`,
    RELEASED: (c) => `${c.personName} fue PUESTO EN LIBERTAD de ${c.facilityName}`,
    TRANSFERRED: (c) => `${c.personName} fue trasladado de ${c.facilityName} a ${c.toFacilityName ?? 'otro centro'}`,
    ESCAPED: (c) => `${c.personName} SE FUGÓ de ${c.facilityName}`,
    RETURNED_TO_CUSTODY: (c) => `${c.personName} está de nuevo bajo custodia en ${c.facilityName}`,
    DECEASED: (c) => `Se informa que ${c.personName} falleció (${c.facilityName})`,
    REMOVED: (c) => `${c.personName} fue expulsado de Estados Unidos (${c.facilityName})`,
    RELEASE_SCHEDULED: (c, _w, s) => `${c.personName} saldrá en libertad de ${c.facilityName} el ${s}`,
    HEARING_SCHEDULED: (c, _w, s) => `${c.personName} tiene audiencia el ${s}`,
    CORRECTION: (c) => `Se corrigió un aviso sobre ${c.personName}`,
  },
};

const TEXT = {
  en: {
    at: 'at',
    correction: (what: string) => `CORRECTION, earlier notice withdrawn: ${what}.`,
    manage: 'Manage alerts',
    unsubscribe: 'Stop emails to this address',
    subject: (c: AlertContext) => (c.kind === 'correction' ? `Vigil correction about ${c.personName}` : `Vigil alert: ${c.personName}`),
    confirm: 'To confirm you received this alert, enter your 4 digit PIN now.',
    verifyCode: (code: string) => `Vigil code: ${code}. It expires in 30 minutes. If you did not ask for it, ignore this message.`,
    verifySubject: 'Your Vigil verification code',
    verifyCall: 'This is Vigil. To confirm this phone for custody alerts, enter your 4 digit PIN now.',
    wrongPin: 'That PIN is not correct. Please try again.',
    goodbye: 'Goodbye.',
    confirmed: 'Thank you. Your alert is confirmed.',
    verified: 'Thank you. This phone will now receive custody alerts.',
    // Said when it may not be the registrant listening: no person, event, place or PIN prompt.
    machine:
      'Hello, this is Vigil with an important message for you. We do not leave details in a recording. Please check your email and text messages from Vigil.',
    callAgain: 'We will call again.',
    machineVerify:
      'Hello, this is Vigil, calling to confirm this phone number. Please ask for a new call on the Vigil website when you can answer it.',
    offer: 'Hello, this is Vigil with an important message. If it is for you, enter your 4 digit PIN now to hear it.',
    offerVerify: 'Hello, this is Vigil, calling to confirm this phone number. If you asked for this call, enter your 4 digit PIN now.',
  },
  es: {
    at: 'a las',
    correction: (what: string) => `CORRECCIÓN, aviso retirado: ${what}.`,
    manage: 'Administrar alertas',
    unsubscribe: 'Dejar de recibir correos en esta dirección',
    subject: (c: AlertContext) =>
      c.kind === 'correction' ? `Corrección de Vigil sobre ${c.personName}` : `Alerta de Vigil: ${c.personName}`,
    confirm: 'Para confirmar que recibió esta alerta, marque ahora su PIN de 4 dígitos.',
    verifyCode: (code: string) => `Código de Vigil: ${code}. Vence en 30 minutos. Si no lo pidió, ignore este mensaje.`,
    verifySubject: 'Su código de verificación de Vigil',
    verifyCall: 'Le llama Vigil. Para confirmar este teléfono para alertas de custodia, marque ahora su PIN de 4 dígitos.',
    wrongPin: 'Ese PIN no es correcto. Inténtelo de nuevo.',
    goodbye: 'Adiós.',
    confirmed: 'Gracias. Su alerta quedó confirmada.',
    verified: 'Gracias. Este teléfono recibirá alertas de custodia.',
    machine:
      'Hola, le llama Vigil con un mensaje importante para usted. No dejamos detalles en un mensaje grabado. Revise su correo electrónico y sus mensajes de texto de Vigil.',
    callAgain: 'Volveremos a llamar.',
    machineVerify:
      'Hola, le llama Vigil para confirmar este número de teléfono. Pida una nueva llamada en el sitio web de Vigil cuando pueda contestar.',
    offer: 'Hola, le llama Vigil con un mensaje importante. Si es para usted, marque ahora su PIN de 4 dígitos para escucharlo.',
    offerVerify:
      'Hola, le llama Vigil para confirmar este número de teléfono. Si usted pidió esta llamada, marque ahora su PIN de 4 dígitos.',
  },
} as const;

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

function shorten(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}
