import type { EventType } from '../people/custody-status.js';
import type { Language } from '../registrations/registration.dto.js';

/**
 * The alerts' words (email, SMS, voice), in the same catalog folder as the pages' words: one set of
 * catalogs per language for everything a victim reads or hears. The pages' safety line is this one.
 */
export const SAFETY_LINE: Record<Language, string> = {
  en: 'If you are in danger, call 911.',
  es: 'Si está en peligro, llame al 911.',
};

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

type Phrase = (c: AlertContext, when: string, scheduled: string) => string;

export const WHAT: Record<Language, Record<EventType, Phrase>> = {
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

export const ALERT_TEXT = {
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
    // In an SMS, for a name in a script the SMS alphabet lacks (the email and the call carry the name).
    someone: 'the person you follow',
    someFacility: 'the facility',
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
    someone: 'la persona que sigue',
    someFacility: 'el centro',
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

/** The kinds of service an office keeps in its directory (the seeds: shelters, legal aid, Continued Presence, T and U visas). */
export const SERVICE_KINDS = ['shelter', 'legal_aid', 'counselling', 'medical', 'immigration_relief', 'hotline', 'other'] as const;
export type ServiceKind = (typeof SERVICE_KINDS)[number];

export const SERVICE_KIND_LABEL: Record<Language, Record<ServiceKind, string>> = {
  en: {
    shelter: 'Shelter',
    legal_aid: 'Legal aid',
    counselling: 'Counselling',
    medical: 'Medical care',
    immigration_relief: 'Immigration relief (Continued Presence, T and U visas)',
    hotline: 'Hotline',
    other: 'Other help',
  },
  es: {
    shelter: 'Refugio',
    legal_aid: 'Ayuda legal',
    counselling: 'Consejería',
    medical: 'Atención médica',
    immigration_relief: 'Alivio migratorio (Presencia Continuada, visas T y U)',
    hotline: 'Línea de ayuda',
    other: 'Otra ayuda',
  },
};

/** A directory entry as it was when shared: the ledger keeps what the victim was sent. */
export interface SharedService {
  /** The directory entry it came from (the entry may change or be archived later; this copy does not). */
  serviceId?: string;
  name: string;
  kind: ServiceKind;
  /** As the directory stores it (common/service-phone.ts): E.164, `;ext=` for an extension, or a three-digit line such as 988. */
  phone?: string | null;
  website?: string | null;
  hours?: string | null;
  area?: string | null;
  /** BCP 47 codes (`en`, `es`, `vi`), named in the victim's language when shown. */
  languages?: string[] | null;
  /** A short description, in one language or both. */
  description?: Partial<Record<Language, string>> | null;
}

const LANGUAGE_NAMES: Record<Language, Intl.DisplayNames> = {
  en: new Intl.DisplayNames('en-US', { type: 'language', fallback: 'code' }),
  es: new Intl.DisplayNames('es-US', { type: 'language', fallback: 'code' }),
};

/** The languages a service speaks, named in `language` (`en` → "English", "inglés"); a code Intl does not know, or a name, stays as is. */
export function serviceLanguageNames(codes: readonly string[] | null | undefined, language: Language): string[] {
  return (codes ?? []).map((code) => {
    // A name kept as written ("English") is no code, though Intl would take it for one.
    if (!/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(code)) return code;
    try {
      return LANGUAGE_NAMES[language].of(code) ?? code;
    } catch {
      return code;
    }
  });
}

/** A service's description in `language`, else in the other one (marked with its language, for screen readers). */
export function serviceDescription(
  service: Pick<SharedService, 'description'>,
  language: Language,
): { text: string; lang: Language } | undefined {
  const own = service.description?.[language];
  if (own) return { text: own, lang: language };
  const other = (Object.keys(service.description ?? {}) as Language[]).find((l) => service.description?.[l]);
  return other ? { text: service.description![other]!, lang: other } : undefined;
}

/** What a message staff send outside any custody event needs. */
export interface MessageContext {
  kind: 'enrolled' | 'service';
  /** The person the victim follows (the enrolment confirmation names them). */
  personName: string;
  service?: SharedService | null;
  manageUrl: string;
  unsubscribeUrl?: string;
}

export const MESSAGE_TEXT = {
  en: {
    enrolledSubject: 'You are signed up for Vigil custody alerts',
    enrolled: (name: string) =>
      `A victim assistance specialist signed you up for Vigil alerts about ${name}. We will tell you when their custody status changes.`,
    enrolledSms: (name: string) => `A victim assistance specialist signed you up for alerts about ${name}.`,
    howToStop: 'To see your alerts, change them or stop them, open your page:',
    stopSms: 'Reply STOP to end texts.',
    serviceSubject: (name: string) => `A service for you: ${name}`,
    service: 'Your victim assistance specialist shared this service with you.',
    serviceSms: 'Your specialist shared a service:',
    phone: 'Phone',
    website: 'Website',
    hours: 'Hours',
    area: 'Area',
    languages: 'Languages',
    extension: 'ext.',
    extensionSaid: 'extension',
    confirm: 'To confirm you received this message, enter your 4 digit PIN now.',
  },
  es: {
    enrolledSubject: 'Está inscrito en las alertas de custodia de Vigil',
    enrolled: (name: string) =>
      `Un especialista en asistencia a víctimas lo inscribió en las alertas de Vigil sobre ${name}. Le avisaremos cuando cambie su situación de custodia.`,
    enrolledSms: (name: string) => `Un especialista en asistencia a víctimas lo inscribió en alertas sobre ${name}.`,
    howToStop: 'Para ver sus alertas, cambiarlas o detenerlas, abra su página:',
    stopSms: 'Responda STOP para dejar de recibir mensajes de texto.',
    serviceSubject: (name: string) => `Un servicio para usted: ${name}`,
    service: 'Su especialista en asistencia a víctimas compartió este servicio con usted.',
    serviceSms: 'Su especialista compartió un servicio:',
    phone: 'Teléfono',
    website: 'Sitio web',
    hours: 'Horario',
    area: 'Zona',
    languages: 'Idiomas',
    extension: 'ext.',
    extensionSaid: 'extensión',
    confirm: 'Para confirmar que recibió este mensaje, marque ahora su PIN de 4 dígitos.',
  },
} as const;
