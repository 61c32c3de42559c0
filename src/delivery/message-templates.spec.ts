import { describe, expect, it } from 'vitest';
import { LANGUAGES } from '../registrations/registration.dto.js';
import { SERVICE_KINDS, type SharedService } from '../i18n/alerts.js';
import { countSegments } from './sms-segments.js';
import { type MessageContext, renderMessageEmail, renderMessageSms, renderMessageVoice } from './templates.js';

// A real manage link is this long (the token is 43 characters); the SMS must carry it whole.
const manageUrl = 'https://vigil.example.org/es/manage?token=vmt_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG';

const service: SharedService = {
  name: 'Casa Segura',
  kind: 'shelter',
  phone: '+18007997233',
  website: 'https://casasegura.example.org/ayuda',
  hours: '24/7',
  area: 'Harris County',
  languages: ['en', 'es'],
  description: { en: 'Emergency shelter for survivors and their children.', es: 'Refugio de emergencia para sobrevivientes y sus hijos.' },
};
const shared = (s: SharedService): MessageContext => ({ kind: 'service', personName: 'John Doe', service: s, manageUrl });

describe('#14 a shared service as the victim reads and hears it', () => {
  it('#14 the email gives the phone as people write it, the languages by name and the description in the victim’s language', () => {
    const es = renderMessageEmail(shared(service), 'es');
    expect(es.subject).toBe('Un servicio para usted: Casa Segura');
    expect(es.text).toContain('Teléfono: (800) 799-7233');
    expect(es.text).toContain('Idiomas: inglés, español');
    expect(es.text).toContain('Refugio de emergencia para sobrevivientes y sus hijos.');
    expect(es.text).not.toContain('Emergency shelter');
    expect(es.html).toContain('href="tel:+18007997233"');
    const en = renderMessageEmail(shared(service), 'en');
    expect(en.text).toContain('Languages: English, Spanish');
    expect(en.text).toContain('Emergency shelter for survivors');
  });

  it('#14 a description given in one language only is still sent, marked as that language in the HTML', () => {
    const es = renderMessageEmail(shared({ ...service, description: { en: 'Walk-in legal clinic.' } }), 'es');
    expect(es.text).toContain('Walk-in legal clinic.');
    expect(es.html).toContain('<p lang="en">Walk-in legal clinic.</p>');
  });

  it('#14 the call reads the number digit by digit in its groups and the languages by name, never the website', () => {
    const es = renderMessageVoice(shared({ ...service, phone: '+17135550123;ext=12' }), 'es');
    expect(es).toContain('Teléfono: 7 1 3, 5 5 5, 0 1 2 3, extensión 1 2');
    expect(es).toContain('Idiomas: inglés, español');
    expect(es).not.toContain('casasegura.example.org');
    expect(es).toContain('Casa Segura. Refugio.');
    expect(es).not.toMatch(/\(\d|\d-\d/);
    const en = renderMessageVoice(shared({ ...service, phone: '988', kind: 'hotline' }), 'en');
    expect(en).toContain('Phone: 9 8 8');
  });

  for (const language of LANGUAGES) {
    for (const kind of SERVICE_KINDS) {
      it(`#14 ${language} ${kind}: a long name still fits two SMS segments, with the phone, the link and the safety line`, () => {
        const long = {
          ...service,
          kind,
          name: `Centro de Asistencia Integral para Víctimas de Trata de Personas y Violencia Doméstica del Condado de Harris ${'y Alrededores '.repeat(6)}`.trim(),
          website: `https://www.example.org/${'recursos/'.repeat(20)}`,
        };
        const sms = renderMessageSms(shared(long), language);
        expect(countSegments(sms).segments, sms).toBeLessThanOrEqual(2);
        expect(sms).toContain('(800) 799-7233');
        expect(sms).toContain(manageUrl);
        expect(sms).toContain('911');
        expect(sms).toContain('Centro de Asistencia');
      });
    }
  }

  it('#14 a name in a script SMS cannot carry keeps the phone readable and stays within two segments', () => {
    const sms = renderMessageSms(shared({ ...service, name: 'Трудовой центр помощи пострадавшим от торговли людьми и насилия' }), 'es');
    expect(countSegments(sms).segments).toBeLessThanOrEqual(2);
    expect(sms).toContain('(800) 799-7233');
    expect(sms).not.toContain('???');
    expect(sms).toContain('compartio un servicio: Refugio.');
  });
});
