import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../people/custody-status.js';
import { LANGUAGES } from '../registrations/registration.dto.js';
import { countSegments } from './sms-segments.js';
import {
  type AlertContext,
  renderEmail,
  renderMessageEmail,
  renderMessageSms,
  renderMessageVoice,
  renderSms,
  renderVerificationEmail,
  renderVerificationSms,
  phrases,
  renderVoice,
  SAFETY_LINE,
} from './templates.js';

const base: AlertContext = {
  kind: 'alert',
  eventType: 'RELEASED',
  personName: 'John Doe',
  facilityName: 'Harris County Jail',
  toFacilityName: 'State Penitentiary',
  occurredAt: new Date('2026-11-26T20:03:00Z'),
  scheduledFor: new Date('2026-12-01T15:00:00Z'),
  timeZone: 'America/Chicago',
  // As long as a real one: the SMS must carry it within two segments.
  manageUrl: 'https://vigil.example.org/es/manage?token=vmt_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG',
  unsubscribeUrl: 'https://vigil.example/v1/unsubscribe/c?token=t',
};

describe('templates', () => {
  for (const language of LANGUAGES) {
    for (const kind of ['alert', 'correction'] as const) {
      for (const eventType of EVENT_TYPES) {
        it(`${language} ${kind} ${eventType}: every channel, safety line, SMS within two segments`, () => {
          const c = { ...base, kind, eventType };
          const email = renderEmail(c, language);
          const sms = renderSms(c, language);
          const voice = renderVoice(c, language);
          for (const text of [email.text, email.html, sms, voice]) {
            expect(text).toContain('911');
            expect(text).toContain('John Doe');
          }
          expect(email.text).toContain(SAFETY_LINE[language]);
          expect(email.text).toContain(base.manageUrl);
          expect(sms, '#13 the SMS carries the manage link').toContain(base.manageUrl);
          expect(email.text).toContain(base.unsubscribeUrl);
          expect(countSegments(sms).segments).toBeLessThanOrEqual(2);
          if (language === 'es') expect(`${email.subject} ${sms}`).toMatch(/[áéíóúñ¿]|Alerta|Correcci/);
        });
      }
    }
    it(`${language}: long names are shortened to keep SMS within two segments, never the safety line`, () => {
      const sms = renderSms({ ...base, personName: 'Ñ'.repeat(100) + ' ' + 'Ó'.repeat(100), facilityName: 'F'.repeat(200) }, language);
      expect(countSegments(sms).segments).toBeLessThanOrEqual(2);
      expect(sms).toContain(SAFETY_LINE[language].replace('á', 'a'));
      expect(sms).toContain(base.manageUrl);
    });
    it(`${language}: a name in a script GSM-7 lacks is named in words, never turned into question marks`, () => {
      const sms = renderSms(
        { ...base, personName: 'Алексей Смирнов-Кузнецов', facilityName: '杭州市看守所 Hangzhou Detention Center' },
        language,
      );
      expect(countSegments(sms).segments).toBeLessThanOrEqual(2);
      expect(sms).toContain(language === 'en' ? 'the person you follow' : 'la persona que sigue');
      expect(sms.replace(base.manageUrl, '')).not.toMatch(/\?/);
      expect(sms).toContain(base.manageUrl);
    });
    it(`${language}: verification messages carry the code and fit one segment`, () => {
      expect(renderVerificationSms('123456', language)).toContain('123456');
      expect(countSegments(renderVerificationSms('123456', language)).segments).toBe(language === 'en' ? 1 : 2);
      expect(renderVerificationEmail('123456', language).text).toContain('123456');
    });
    it(`#11.11 ${language}: what an answering machine may record names Vigil and where to look, nothing of the alert`, () => {
      const t = phrases(language);
      for (const text of [t.machine, t.callAgain, t.machineVerify]) {
        expect(text).not.toMatch(/PIN|911|custod|releas|libertad|\d/i);
      }
      for (const text of [t.machine, t.machineVerify, t.offer, t.offerVerify]) expect(text).toContain('Vigil');
      expect(t.machine).toMatch(language === 'en' ? /email and text messages/ : /correo electrónico y sus mensajes de texto/);
      const afterPin = renderVoice(base, language, false);
      expect(afterPin).toContain('John Doe');
      expect(afterPin).toContain(SAFETY_LINE[language]);
      expect(afterPin).not.toContain(t.confirm);
    });
  }

  it('speaks local time in the registrant’s zone', () => {
    expect(renderSms(base, 'en')).toContain('2:03');
    expect(renderSms({ ...base, timeZone: 'America/New_York' }, 'en')).toContain('3:03');
    // Formatted instants are kept per language, zone and format: asking again gives the same answers.
    expect(renderSms(base, 'en')).toContain('2:03');
    expect(renderEmail({ ...base, timeZone: 'America/New_York' }, 'es').text).toContain('3:03');
  });

  it('escapes HTML in names', () => {
    expect(renderEmail({ ...base, personName: '<script>x</script>' }, 'en').html).not.toContain('<script>');
  });

  describe('#14 the enrolment confirmation', () => {
    const message = {
      kind: 'enrolled' as const,
      personName: 'José Ramírez',
      manageUrl: base.manageUrl,
      unsubscribeUrl: base.unsubscribeUrl,
    };
    for (const language of LANGUAGES) {
      it(`#14 ${language}: names the person, says a specialist signed them up, the safety line, how to stop, the manage link; SMS within two segments`, () => {
        const email = renderMessageEmail(message, language);
        const voice = renderMessageVoice(message, language);
        for (const text of [email.text, voice]) {
          expect(text).toContain('José Ramírez');
          expect(text).toContain(SAFETY_LINE[language]);
          expect(text).toMatch(
            language === 'en' ? /victim assistance specialist signed you up/ : /especialista en asistencia a víctimas lo inscribió/,
          );
        }
        expect(email.text).toContain(base.manageUrl);
        expect(email.html).toContain(base.manageUrl.replace(/&/g, '&amp;'));
        expect(email.text).toMatch(language === 'en' ? /stop them/ : /detenerlas/);
        for (const personName of [
          'José Ramírez',
          'Bartholomew Alexander Montgomery-Fitzgerald de la Cruz y Villanueva',
          'Алексей Смирнов',
        ]) {
          const sms = renderMessageSms({ ...message, personName }, language);
          expect(countSegments(sms).segments, sms).toBeLessThanOrEqual(2);
          expect(sms).toContain(base.manageUrl);
          expect(sms).toContain('911');
          expect(sms.replace(base.manageUrl, '')).not.toMatch(/\?/);
        }
      });
    }

    it('#14 the SMS says that STOP ends text messages only (calls and emails go on), in both languages', () => {
      // A victim who reads "no more messages" may believe every alert has stopped while calls and emails still come.
      expect(renderMessageSms(message, 'en')).toMatch(/STOP to end texts/);
      expect(renderMessageSms(message, 'es')).toMatch(/STOP para dejar de recibir mensajes de texto/);
    });
  });
});
