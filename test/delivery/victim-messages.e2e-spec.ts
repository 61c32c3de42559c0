import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { countSegments } from '../../src/delivery/sms-segments.js';
import { VictimMessagesService } from '../../src/delivery/victim-messages.service.js';
import type { AuditedBy } from '../../src/common/audit.service.js';
import type { FakeTwilio } from '../support/fake-twilio.js';
import { bookPerson, enrolEveryChannel } from '../support/registrations.js';
import { type Providers, startProviders } from '../support/providers.js';
import type { SmtpSink } from '../support/smtp-sink.js';
import { createSource, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** Messages staff send a victim outside any custody event, through the ledger (#14: enrolment confirmation, shared services). */
describe('#14 messages to a victim outside any event', () => {
  let t: TestApp;
  let providers: Providers;
  let smtp: SmtpSink;
  let twilio: FakeTwilio;
  let source: TestSource;
  let specialist: string;
  let by: AuditedBy;
  let phone = 7135551400;

  beforeAll(async () => {
    providers = await startProviders();
    ({ smtp, twilio } = providers);
    t = await startTestApp({
      env: {
        ...providers.env,
        PUBLIC_BASE_URL: 'https://vigil.test',
      },
    });
    source = await createSource(t);
    const email = `messages-${Date.now()}@test.vigil`;
    specialist = await t.staffToken('specialist', email);
    const { rows } = await t.db.query(`SELECT id FROM staff WHERE email = $1`, [email]);
    by = { staff: { staffId: rows[0].id, role: 'specialist' }, clientAddress: '127.0.0.1' };
  });
  afterAll(async () => {
    await t.close();
    await providers?.stop();
  });

  const messages = () => t.app.get(VictimMessagesService);
  const drain = () => t.app.get(DispatcherService).drain();

  async function victim(identifier: string, names: { firstName?: string; lastName?: string } = {}, language = 'es') {
    const personId = await bookPerson(t, source, identifier, names);
    const contacts = { email: `${identifier.toLowerCase()}@example.org`, sms: `+1${++phone}`, voice: `+1${++phone}` };
    const enrolled = await enrolEveryChannel(t, specialist, personId, contacts, { language });
    await drain();
    return { ...enrolled, personId, contacts };
  }

  const ledger = async (registrationId: string) =>
    (await t.http().get(`/v1/registrations/${registrationId}/notifications`).set('Authorization', `Bearer ${specialist}`)).body
      .notifications;

  it('an enrolment confirmation reaches every contact in the victim’s language, names the person, carries the manage link, and is in the ledger', async () => {
    const v = await victim('MSG-ENROL', { firstName: 'Rodrigo', lastName: 'Mensajero' });
    const sent = await messages().send(v.registrationId, { kind: 'enrolled' }, by);
    expect(sent?.queued).toBe(3);
    expect(await drain()).toBe(3);

    const [mail] = smtp.to(v.contacts.email);
    expect(mail.subject).toBe('Está inscrito en las alertas de custodia de Vigil');
    expect(mail.text).toContain('Rodrigo Mensajero');
    expect(mail.text).toContain('especialista');
    expect(mail.text).toContain('911');
    const link = /https:\/\/vigil\.test\/es\/manage\?token=([^\s"]+)/.exec(mail.text ?? '')!;
    expect(link).not.toBeNull();
    const opened = await t.http().get(`/es/manage?token=${link[1]}`);
    expect(opened.status).toBe(303);
    expect(opened.headers.location).toBe('/es/manage');

    const [sms] = twilio.messagesTo(v.contacts.sms);
    expect(sms.params.Body).toContain('Rodrigo Mensajero');
    expect(sms.params.Body).toContain('911');
    expect(sms.params.Body).toContain('https://vigil.test/es/manage?token=');
    expect(countSegments(sms.params.Body).segments).toBeLessThanOrEqual(2);
    expect(twilio.requests.filter((r) => r.kind === 'call' && r.params.To === v.contacts.voice)).toHaveLength(1);

    const [notification] = await ledger(v.registrationId);
    expect(notification).toMatchObject({ kind: 'enrolled', eventId: null, eventType: null, status: 'sent' });
    expect(notification.deliveries.map((d: { channel: string }) => d.channel).sort()).toEqual(['email', 'sms', 'voice']);
    const audit = await t.db.query(`SELECT actor_staff_id, details FROM audit_log WHERE action = 'message.send' AND target_id = $1`, [
      notification.notificationId,
    ]);
    expect(audit.rows).toEqual([
      { actor_staff_id: by.staff.staffId, details: { kind: 'enrolled', queued: 3, registrationId: v.registrationId } },
    ]);
  });

  it('a shared service keeps what was sent in the ledger, sealed (only its kind plain), and its SMS stays within two segments with a long name and website', async () => {
    const v = await victim('MSG-SERVICE', {}, 'en');
    const service = {
      name: 'Harris County Domestic Violence Coordinating Council Emergency Shelter and Advocacy Services Program',
      kind: 'shelter' as const,
      phone: '+17135550100',
      website: 'https://www.example.org/services/emergency-shelter-and-advocacy-for-survivors-of-violence?lang=en',
      hours: '24 hours, every day',
      languages: ['English', 'Spanish'],
    };
    const sent = await messages().send(v.registrationId, { kind: 'service', service }, by);
    expect(sent?.queued).toBe(3);
    await drain();
    const [mail] = smtp.to(v.contacts.email);
    expect(mail.subject).toBe(`A service for you: ${service.name}`);
    // The phone as people write it (the directory keeps E.164; #14 services directory).
    for (const part of [service.name, 'Shelter', '(713) 555-0100', service.website, service.hours, 'English, Spanish', '911'])
      expect(mail.text).toContain(part);
    const [sms] = twilio.messagesTo(v.contacts.sms);
    expect(countSegments(sms.params.Body).segments).toBeLessThanOrEqual(2);
    expect(sms.params.Body).toContain('(713) 555-0100');
    expect(sms.params.Body).toContain('911');
    expect(sms.params.Body).toContain('https://vigil.test/en/manage?token=');

    const [notification] = await ledger(v.registrationId);
    expect(notification).toMatchObject({ kind: 'service', service: { name: service.name, kind: 'shelter' }, eventId: null });
    // #14 the copy links this victim to a shelter: sealed to its row, only the kind plain (the program report counts by kind).
    const { rows } = await t.db.query(`SELECT to_jsonb(n) AS row FROM notification n WHERE id = $1`, [notification.notificationId]);
    const stored = JSON.stringify(rows[0].row);
    for (const part of [service.name, service.phone, service.website, service.hours]) expect(stored).not.toContain(part);
    expect(rows[0].row.message).toEqual({ service: { kind: 'shelter' } });
  });

  it('nothing is queued for a stopped registration, and an enrolment confirmation about a protected person is withheld', async () => {
    const stopped = await victim('MSG-STOPPED');
    expect((await t.http().delete(`/v1/registrations/${stopped.registrationId}`).set('Authorization', `Bearer ${specialist}`)).status).toBe(
      204,
    );
    expect(await messages().send(stopped.registrationId, { kind: 'enrolled' }, by)).toBeUndefined();
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM notification WHERE registration_id = $1`, [stopped.registrationId]);
    expect(rows[0].n).toBe(0);

    const guarded = await victim('MSG-PROTECTED');
    const admin = await t.adminToken();
    expect(
      (
        await t
          .http()
          .put(`/v1/admin/people/${guarded.personId}/protection`)
          .set('Authorization', `Bearer ${admin}`)
          .send({ protected: true, reason: 'court order' })
      ).status,
    ).toBe(200);
    const before = smtp.to(guarded.contacts.email).length;
    expect((await messages().send(guarded.registrationId, { kind: 'enrolled' }, by))?.queued).toBe(3);
    await drain();
    expect(smtp.to(guarded.contacts.email)).toHaveLength(before);
    expect(twilio.messagesTo(guarded.contacts.sms)).toHaveLength(0);
    const statuses = await t.db.query(
      `SELECT DISTINCT d.status FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.registration_id = $1 AND n.kind = 'enrolled'`,
      [guarded.registrationId],
    );
    expect(statuses.rows).toEqual([{ status: 'suppressed' }]);
    // Withheld before any provider had it: the ledger leaves it out, as it does an alert about a protected person,
    // so neither the victim's page nor a specialist learns of the protection from a "suppressed".
    expect((await ledger(guarded.registrationId)).map((n: { kind: string }) => n.kind)).not.toContain('enrolled');
  });
});
