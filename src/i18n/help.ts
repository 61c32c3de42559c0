import type { EventType } from '../people/custody-status.js';

export interface Hotline {
  /** How pages name a line (never by its place in the list). */
  key: 'trafficking' | 'voice' | 'hsi';
  name: string;
  what: string;
  /** As dialled, for the tel: link. */
  tel: string;
  /** As shown. */
  number: string;
}

/** The help and safety page. Hotlines are the ones the seed documents name (ICE victim assistance, VOICE, DHS-VINE). */
const en = {
  title: 'Help and safety',
  emergencyTitle: 'In danger now? Call 911.',
  emergency: 'If you are in danger or afraid for your safety, call 911 first. Vigil cannot send help.',
  call911: 'Call 911',
  hotlinesTitle: 'People you can call',
  hotlines: [
    {
      key: 'trafficking',
      name: 'National Human Trafficking Resource Center',
      what: 'Help and a service provider near you, 24 hours a day, in many languages.',
      tel: '+18883737888',
      number: '1-888-373-7888',
    },
    {
      key: 'voice',
      name: 'VOICE (Victims of Immigration Crime Engagement) line',
      what: 'Victim assistance from U.S. Immigration and Customs Enforcement: custody information, and help to sign up for alerts.',
      tel: '+18554886423',
      number: '1-855-48-VOICE (1-855-488-6423)',
    },
    {
      key: 'hsi',
      name: 'HSI Tip Line',
      what: 'Homeland Security Investigations: report a crime, or ask about Continued Presence for trafficking victims.',
      tel: '+18663472423',
      number: '1-866-347-2423',
    },
  ] as Hotline[],
  eventsTitle: 'What each alert means',
  events: {
    BOOKED: 'The person was taken into custody at a jail, detention centre or prison.',
    RELEASED: 'The person has left custody. This is urgent: make your safety plan now.',
    TRANSFERRED: 'The person was moved to another facility. They are still in custody.',
    ESCAPED: 'The person escaped from custody. This is urgent: call 911 if you are in danger.',
    RETURNED_TO_CUSTODY: 'The person is back in custody after a release or escape.',
    DECEASED: 'The facility reports that the person has died.',
    REMOVED: 'The person was removed (deported) from the United States.',
    RELEASE_SCHEDULED: 'A date has been set for the person’s release. It can change.',
    HEARING_SCHEDULED: 'A court or immigration hearing has been set.',
    CORRECTION: 'An earlier alert was wrong and is withdrawn. The correction says what is true.',
  } satisfies Record<EventType, string>,
  howTitle: 'How alerts work',
  how: [
    'Alerts come by email, text message or phone call, in English or Spanish, as soon as the facility tells us, day or night.',
    'Before alerts start, you confirm each email address and phone number with a code we send to it. A phone for calls is confirmed with your PIN during a call.',
    'For urgent alerts (release and escape) we call again until you enter your 4-digit PIN, so we know you heard it. Choose a PIN nobody else knows; we never say it or send it.',
    'Quiet hours hold text messages and calls about non-urgent events until the morning. Urgent alerts always come at once.',
    'Every alert has a link to manage your alerts: see what was sent, change what you receive, or stop all alerts. Reply STOP to a text message to stop texts to that phone.',
  ],
  limitsTitle: 'What Vigil can and cannot tell you',
  limits: [
    'Vigil only knows what jails, detention centres and prisons report to it, and a report can be late or wrong. Do not rely on Vigil alone for your safety.',
    'Vigil cannot tell you where a released person went, and cannot stop a release.',
    'Some people cannot be found here, for example minors. A victim assistance specialist can help.',
    'Nobody can see that you signed up. The person in custody is never told.',
  ],
  servicesTitle: 'Services that can help',
  services:
    'Shelters, legal aid, counselling, medical care and help with immigration relief (such as Continued Presence, T visas and U visas) are available. Call one of the lines above and ask for services near you.',
  servicesListed:
    'These services can help. A victim assistance specialist can also connect you with shelters and other services that are not listed here. Call one of the lines above.',
  servicePhone: 'Phone',
  serviceWebsite: 'Website',
  serviceHours: 'Hours',
  serviceArea: 'Area served',
  serviceLanguages: 'Languages',
  phoneSafetyTitle: 'Keeping your phone and computer safe',
  phoneSafety: [
    'If someone may check your phone or computer, use a private window and clear your history after using this site.',
    'Use the Quick exit link at the top of every page (or press Escape) to leave at once.',
    'Choose an email address and phone that only you can open.',
  ],
};

export type HelpMessages = typeof en;

const es: HelpMessages = {
  title: 'Ayuda y seguridad',
  emergencyTitle: '¿Está en peligro ahora? Llame al 911.',
  emergency: 'Si está en peligro o teme por su seguridad, llame primero al 911. Vigil no puede enviar ayuda.',
  call911: 'Llamar al 911',
  hotlinesTitle: 'A quién puede llamar',
  hotlines: [
    {
      key: 'trafficking',
      name: 'Centro Nacional de Recursos contra la Trata de Personas',
      what: 'Ayuda y un proveedor de servicios cerca de usted, las 24 horas, en muchos idiomas.',
      tel: '+18883737888',
      number: '1-888-373-7888',
    },
    {
      key: 'voice',
      name: 'Línea VOICE (Oficina de Atención a Víctimas de Delitos de Inmigración)',
      what: 'Asistencia a víctimas del Servicio de Inmigración y Control de Aduanas: información sobre la custodia y ayuda para inscribirse en los avisos.',
      tel: '+18554886423',
      number: '1-855-48-VOICE (1-855-488-6423)',
    },
    {
      key: 'hsi',
      name: 'Línea de denuncias de HSI',
      what: 'Investigaciones de Seguridad Nacional: denunciar un delito o preguntar por la Presencia Continuada para víctimas de trata.',
      tel: '+18663472423',
      number: '1-866-347-2423',
    },
  ],
  eventsTitle: 'Qué significa cada aviso',
  events: {
    BOOKED: 'La persona ingresó bajo custodia en una cárcel, un centro de detención o una prisión.',
    RELEASED: 'La persona salió de la custodia. Es urgente: active ahora su plan de seguridad.',
    TRANSFERRED: 'La persona fue trasladada a otro centro. Sigue bajo custodia.',
    ESCAPED: 'La persona se fugó de la custodia. Es urgente: llame al 911 si está en peligro.',
    RETURNED_TO_CUSTODY: 'La persona volvió a la custodia después de una puesta en libertad o una fuga.',
    DECEASED: 'El centro informa que la persona falleció.',
    REMOVED: 'La persona fue expulsada (deportada) de Estados Unidos.',
    RELEASE_SCHEDULED: 'Se fijó una fecha para la puesta en libertad. Puede cambiar.',
    HEARING_SCHEDULED: 'Se fijó una audiencia judicial o de inmigración.',
    CORRECTION: 'Un aviso anterior era incorrecto y se retira. La corrección dice lo que es cierto.',
  },
  howTitle: 'Cómo funcionan los avisos',
  how: [
    'Los avisos llegan por correo electrónico, mensaje de texto o llamada, en inglés o en español, en cuanto el centro nos informa, de día o de noche.',
    'Antes de que empiecen los avisos, usted confirma cada correo y cada teléfono con un código que le enviamos. Un teléfono para llamadas se confirma con su PIN durante una llamada.',
    'En los avisos urgentes (puesta en libertad y fuga) volvemos a llamar hasta que marque su PIN de 4 dígitos, para saber que lo escuchó. Elija un PIN que nadie más conozca; nunca lo decimos ni lo enviamos.',
    'Las horas de silencio retrasan hasta la mañana los mensajes y las llamadas sobre hechos no urgentes. Los avisos urgentes siempre llegan de inmediato.',
    'Cada aviso trae un enlace para administrar sus avisos: ver lo que se envió, cambiar lo que recibe o detener todos los avisos. Responda STOP a un mensaje de texto para dejar de recibir mensajes en ese teléfono.',
  ],
  limitsTitle: 'Lo que Vigil puede y no puede decirle',
  limits: [
    'Vigil solo sabe lo que le informan las cárceles, los centros de detención y las prisiones, y un informe puede llegar tarde o estar equivocado. No dependa solo de Vigil para su seguridad.',
    'Vigil no puede decirle adónde fue una persona puesta en libertad ni puede impedir una puesta en libertad.',
    'Algunas personas no aparecen aquí, por ejemplo los menores de edad. Un especialista de asistencia a víctimas puede ayudarle.',
    'Nadie puede ver que usted se inscribió. Nunca se le informa a la persona bajo custodia.',
  ],
  servicesTitle: 'Servicios que pueden ayudarle',
  services:
    'Hay albergues, asistencia legal, consejería, atención médica y ayuda con alivios migratorios (como la Presencia Continuada y las visas T y U). Llame a una de las líneas de arriba y pida servicios cerca de usted.',
  servicesListed:
    'Estos servicios pueden ayudarle. Un especialista de asistencia a víctimas también puede ponerle en contacto con albergues y otros servicios que no aparecen aquí. Llame a una de las líneas de arriba.',
  servicePhone: 'Teléfono',
  serviceWebsite: 'Sitio web',
  serviceHours: 'Horario',
  serviceArea: 'Zona atendida',
  serviceLanguages: 'Idiomas',
  phoneSafetyTitle: 'Cómo proteger su teléfono y su computadora',
  phoneSafety: [
    'Si alguien puede revisar su teléfono o su computadora, use una ventana privada y borre el historial después de usar este sitio.',
    'Use el enlace Salida rápida arriba de cada página (o pulse Escape) para salir de inmediato.',
    'Elija un correo y un teléfono que solo usted pueda abrir.',
  ],
};

export const help = { en, es };
