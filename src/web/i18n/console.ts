/** The staff console's frame, login and dashboard. */
const en = {
  title: 'Vigil console',
  loginTitle: 'Staff sign in',
  email: 'Email',
  password: 'Password',
  signIn: 'Sign in',
  signOut: 'Sign out',
  loginFailed: 'The email or password is not correct.',
  loginMissing: 'Enter your email and password.',
  loginLocked: 'Too many failed sign-ins for this account. Try again later.',
  signedInAs: (email: string, role: string) => `Signed in as ${email} (${role})`,
  roles: { admin: 'admin', specialist: 'victim assistance specialist' } as Record<string, string>,
  nav: {
    dashboard: 'Dashboard',
    feeds: 'Feeds',
    api: 'API reference',
  },
  feedsTitle: 'Feeds',
  feed: {
    source: 'Source',
    lastContact: 'Last contact',
    never: 'never',
    silentFor: (minutes: number) =>
      minutes < 60
        ? `${minutes} min`
        : minutes < 2880
          ? `${Math.floor(minutes / 60)} h ${minutes % 60} min`
          : `${Math.floor(minutes / 1440)} days`,
    expected: 'Expected every',
    noInterval: 'not watched',
    state: 'State',
    stale: 'SILENT',
    ok: 'reporting',
    facilities: 'Facilities (population)',
    none: 'No sources yet.',
  },
  dashboardTitle: 'Dashboard',
  counts: {
    myRegistrations: 'Victims I enrolled (active)',
    openEscalations: 'Urgent alerts escalated in the last 7 days (not confirmed in time)',
    staleFeeds: 'Feeds gone silent',
    heldRosters: 'Roster changes held for review',
    deadDeliveries: 'Messages that could not be delivered',
  },
  comingNext:
    'The pages for enrolment, your victims’ timelines, escalations, feeds and reports are being built. Until then the same work is available through the API.',
  forbiddenTitle: 'Not for your role',
  forbidden: 'This page is for administrators.',
  errorTitle: 'Something went wrong',
  back: 'Back to the dashboard',
  switchTo: 'Español',
  switchToLabel: 'Ver la consola en español',
};

export type ConsoleMessages = typeof en;

const es: ConsoleMessages = {
  title: 'Consola de Vigil',
  loginTitle: 'Acceso del personal',
  email: 'Correo electrónico',
  password: 'Contraseña',
  signIn: 'Entrar',
  signOut: 'Salir',
  loginFailed: 'El correo o la contraseña no son correctos.',
  loginMissing: 'Escriba su correo y su contraseña.',
  loginLocked: 'Demasiados intentos fallidos para esta cuenta. Inténtelo más tarde.',
  signedInAs: (email: string, role: string) => `Sesión de ${email} (${role})`,
  roles: { admin: 'administrador', specialist: 'especialista de asistencia a víctimas' },
  nav: {
    dashboard: 'Resumen',
    feeds: 'Fuentes',
    api: 'Referencia de la API',
  },
  feedsTitle: 'Fuentes',
  feed: {
    source: 'Fuente',
    lastContact: 'Último contacto',
    never: 'nunca',
    silentFor: (minutes: number) =>
      minutes < 60
        ? `${minutes} min`
        : minutes < 2880
          ? `${Math.floor(minutes / 60)} h ${minutes % 60} min`
          : `${Math.floor(minutes / 1440)} días`,
    expected: 'Se espera cada',
    noInterval: 'sin vigilancia',
    state: 'Estado',
    stale: 'EN SILENCIO',
    ok: 'informando',
    facilities: 'Centros (población)',
    none: 'Todavía no hay fuentes.',
  },
  dashboardTitle: 'Resumen',
  counts: {
    myRegistrations: 'Víctimas que inscribí (activas)',
    openEscalations: 'Avisos urgentes escalados en los últimos 7 días (sin confirmar a tiempo)',
    staleFeeds: 'Fuentes sin noticias',
    heldRosters: 'Cambios de lista retenidos para revisión',
    deadDeliveries: 'Mensajes que no se pudieron entregar',
  },
  comingNext:
    'Se están construyendo las páginas de inscripción, historial de sus víctimas, escalamientos, fuentes e informes. Mientras tanto, el mismo trabajo se puede hacer con la API.',
  forbiddenTitle: 'No corresponde a su función',
  forbidden: 'Esta página es para administradores.',
  errorTitle: 'Algo falló',
  back: 'Volver al resumen',
  switchTo: 'English',
  switchToLabel: 'View the console in English',
};

export const consoleMessages = { en, es };
