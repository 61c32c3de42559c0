import type { CustodyStatus, EventType } from '../people/custody-status.js';
import { SAFETY_LINE } from './alerts.js';

/** Words every victim page uses: the frame, custody statuses and event types. */
const en = {
  siteName: 'Vigil',
  tagline: 'Custody status alerts for victims',
  quickExit: 'Quick exit',
  quickExitHint: 'Leave this site now. Press Escape at any time.',
  skipToContent: 'Skip to main content',
  languageName: 'English',
  switchTo: 'Español',
  switchToLabel: 'Ver esta página en español',
  safetyLine: SAFETY_LINE.en,
  help: 'Help and safety',
  search: 'Search',
  manage: 'My alerts',
  footerPrivacy: 'Vigil never shows who signed up for alerts. Nothing you enter here is shared with the person in custody.',
  fieldRequired: 'required',
  optional: 'optional',
  errorSummary: 'There is a problem',
  errorSummaryCount: (n: number) => (n === 1 ? 'Please fix 1 mistake below.' : `Please fix ${n} mistakes below.`),
  status: {
    IN_CUSTODY: 'In custody',
    RELEASED: 'Released',
    TRANSFERRED: 'Transferred',
    ESCAPED: 'Escaped',
    DECEASED: 'Deceased',
    REMOVED: 'Removed from the United States',
    UNKNOWN: 'Unknown',
  } satisfies Record<CustodyStatus, string>,
  // Messages staff sent outside any custody event, as a ledger entry is headed.
  message: { enrolled: 'Sign-up confirmation', service: 'Service shared' },
  event: {
    BOOKED: 'Booked into custody',
    RELEASED: 'Released',
    TRANSFERRED: 'Transferred',
    ESCAPED: 'Escaped',
    RETURNED_TO_CUSTODY: 'Returned to custody',
    DECEASED: 'Deceased',
    REMOVED: 'Removed from the United States',
    RELEASE_SCHEDULED: 'Release scheduled',
    HEARING_SCHEDULED: 'Hearing scheduled',
    CORRECTION: 'Correction',
  } satisfies Record<EventType, string>,
};

export type CommonMessages = typeof en;

const es: CommonMessages = {
  siteName: 'Vigil',
  tagline: 'Avisos sobre la custodia para víctimas',
  quickExit: 'Salida rápida',
  quickExitHint: 'Salga de este sitio ahora. Pulse Escape en cualquier momento.',
  skipToContent: 'Saltar al contenido principal',
  languageName: 'Español',
  switchTo: 'English',
  switchToLabel: 'View this page in English',
  safetyLine: SAFETY_LINE.es,
  help: 'Ayuda y seguridad',
  search: 'Buscar',
  manage: 'Mis avisos',
  footerPrivacy:
    'Vigil nunca muestra quién se inscribió para recibir avisos. Nada de lo que escriba aquí se comparte con la persona bajo custodia.',
  fieldRequired: 'obligatorio',
  optional: 'opcional',
  errorSummary: 'Hay un problema',
  errorSummaryCount: (n: number) => (n === 1 ? 'Corrija 1 error más abajo.' : `Corrija ${n} errores más abajo.`),
  status: {
    IN_CUSTODY: 'Bajo custodia',
    RELEASED: 'Puesto en libertad',
    TRANSFERRED: 'Trasladado',
    ESCAPED: 'Fugado',
    DECEASED: 'Fallecido',
    REMOVED: 'Expulsado de Estados Unidos',
    UNKNOWN: 'Desconocido',
  },
  message: { enrolled: 'Confirmación de inscripción', service: 'Servicio compartido' },
  event: {
    BOOKED: 'Ingreso bajo custodia',
    RELEASED: 'Puesta en libertad',
    TRANSFERRED: 'Traslado',
    ESCAPED: 'Fuga',
    RETURNED_TO_CUSTODY: 'Regreso a la custodia',
    DECEASED: 'Fallecimiento',
    REMOVED: 'Expulsión de Estados Unidos',
    RELEASE_SCHEDULED: 'Puesta en libertad programada',
    HEARING_SCHEDULED: 'Audiencia programada',
    CORRECTION: 'Corrección',
  },
};

export const common = { en, es };
