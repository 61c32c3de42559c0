/** Error pages: the same status codes as the API, in the page's language, never a stack or JSON. */
const en = {
  title: {
    400: 'Something in that request was not right',
    403: 'This form has expired',
    404: 'Page not found',
    409: 'That could not be done',
    413: 'That was too much to send',
    415: 'That could not be read',
    422: 'Some details need another look',
    429: 'Too many tries',
    500: 'Something went wrong on our side',
    503: 'Vigil is busy or being repaired',
  } as Record<number, string>,
  body: {
    400: 'Go back and try again.',
    403: 'For your safety, forms stop working after a while or when opened from another site. Go back, reload the page and send it again.',
    404: 'The page may have moved, or the link has ended. If you came from an alert, the alerts may have been stopped.',
    409: 'Go back, reload the page and try again.',
    413: 'Go back and send less.',
    415: 'Go back and try again from the form on this site.',
    422: 'Go back and check what you entered.',
    429: 'For everyone’s safety there is a limit on how often this can be done. Wait a little and try again.',
    500: 'Your information is safe. Try again in a few minutes. If it keeps happening, quote this reference to a victim assistance specialist:',
    503: 'Nothing you sent was lost. Try again in a few minutes.',
  } as Record<number, string>,
  retryAfter: (minutes: number) =>
    minutes <= 1 ? 'You can try again in about a minute.' : `You can try again in about ${minutes} minutes.`,
  reference: 'Reference',
  startAgain: 'Start a new search',
};

export type ErrorMessages = typeof en;

const es: ErrorMessages = {
  title: {
    400: 'Algo en esa solicitud no era correcto',
    403: 'Este formulario ha caducado',
    404: 'No se encontró la página',
    409: 'No se pudo hacer',
    413: 'Se envió demasiado',
    415: 'No se pudo leer',
    422: 'Hay datos que revisar',
    429: 'Demasiados intentos',
    500: 'Algo falló de nuestro lado',
    503: 'Vigil está ocupado o en reparación',
  },
  body: {
    400: 'Vuelva atrás e inténtelo de nuevo.',
    403: 'Por su seguridad, los formularios dejan de funcionar después de un tiempo o si se abren desde otro sitio. Vuelva atrás, recargue la página y envíelo de nuevo.',
    404: 'Puede que la página se haya movido o que el enlace haya terminado. Si llegó desde un aviso, puede que los avisos se hayan detenido.',
    409: 'Vuelva atrás, recargue la página e inténtelo de nuevo.',
    413: 'Vuelva atrás y envíe menos.',
    415: 'Vuelva atrás e inténtelo desde el formulario de este sitio.',
    422: 'Vuelva atrás y revise lo que escribió.',
    429: 'Por la seguridad de todos hay un límite de intentos. Espere un poco e inténtelo de nuevo.',
    500: 'Su información está segura. Inténtelo de nuevo en unos minutos. Si sigue pasando, dé esta referencia a un especialista de asistencia a víctimas:',
    503: 'No se perdió nada de lo que envió. Inténtelo de nuevo en unos minutos.',
  },
  retryAfter: (minutes: number) =>
    minutes <= 1 ? 'Puede intentarlo de nuevo en un minuto aproximadamente.' : `Puede intentarlo de nuevo en unos ${minutes} minutos.`,
  reference: 'Referencia',
  startAgain: 'Empezar una nueva búsqueda',
};

export const errors = { en, es };
