import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { LedgerService } from '../../src/delivery/ledger.service.js';
import { countSegments } from '../../src/delivery/sms-segments.js';
import { OptOutService } from '../../src/registrations/opt-out.service.js';
import { DELIVERY_CHANNEL } from '../../src/database/delivery.repository.js';
import { FakeTwilio } from '../support/fake-twilio.js';
import { ManualClock } from '../support/manual-clock.js';
import { bookPerson, enrolEveryChannel, register } from '../support/registrations.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const ACCOUNT = 'AC00000000000000000000000000000000';

describe('matching, fan-out and delivery', () => {
  let t: TestApp;
  let smtp: SmtpSink;
  let twilio: FakeTwilio;
  let source: TestSource;
  let specialist: string;
  const clock = new ManualClock(new Date('2026-11-26T18:00:00Z'));
  let phone = 7135550200;

  beforeAll(async () => {
    smtp = new SmtpSink();
    twilio = new FakeTwilio();
    await Promise.all([smtp.start(), twilio.start()]);
    t = await startTestApp({
      clock,
      env: {
        PUBLIC_RATE_LIMIT_PER_MINUTE: '10000',
        SMTP_URL: smtp.url,
        EMAIL_FROM: 'Vigil <alerts@vigil.test>',
        TWILIO_ACCOUNT_SID: ACCOUNT,
        TWILIO_AUTH_TOKEN: 'test-token',
        TWILIO_FROM_NUMBER: '+15005550006',
        TWILIO_API_BASE_URL: twilio.baseUrl,
        PUBLIC_BASE_URL: 'https://vigil.test',
        RETRY_MAX_ATTEMPTS: '3',
      },
    });
    source = await createSource(t);
    specialist = await t.staffToken('specialist');
  });
  afterAll(async () => {
    await t.close();
    await Promise.all([smtp.stop(), twilio.stop()]);
  });

  const drain = () => t.app.get(DispatcherService).drain();
  const nextPhone = () => `+1${++phone}`;

  async function enrol(identifier: string, extra: Record<string, unknown> = {}) {
    const personId = await bookPerson(t, source, identifier);
    const contacts = { email: `${identifier.toLowerCase()}@example.org`, sms: nextPhone(), voice: nextPhone() };
    const enrolled = await enrolEveryChannel(t, specialist, personId, contacts, { language: 'es', ...extra });
    await drain();
    return { ...enrolled, personId, contacts };
  }

  const release = (identifier: string, type = 'RELEASED', extra: Record<string, unknown> = {}) =>
    postEvents(t, source, event({ person: personWith(identifier), type, occurredAt: '2026-11-26T17:30:00Z', ...extra }));

  it('sends verification codes over each contact’s own channel, in the registrant’s language, and the codes verify', async () => {
    const personId = await bookPerson(t, source, 'DLV-VERIFY');
    const sms = nextPhone();
    const created = await register(t, {
      personId,
      language: 'es',
      contacts: [
        { channel: 'email', address: 'verify.me@example.org' },
        { channel: 'sms', address: sms },
      ],
    });
    expect(await drain()).toBe(2);
    const [mail] = smtp.to('verify.me@example.org');
    expect(mail.subject).toBe('Su código de verificación de Vigil');
    const emailCode = /(\d{6})/.exec(mail.text ?? '')![1];
    const [text] = twilio.messagesTo(sms);
    expect(text.params.Body).toContain('Código de Vigil');
    const smsCode = /(\d{6})/.exec(text.params.Body)![1];
    for (const [contact, code] of [
      [created.body.contacts[0], emailCode],
      [created.body.contacts[1], smsCode],
    ] as const) {
      const res = await t
        .http()
        .post(`/v1/registrations/${created.body.registrationId}/contacts/${contact.contactId}/verify`)
        .send({ code });
      expect(res.status).toBe(200);
    }
  });

  it('an event plans one notification per registration and one delivery per verified contact, committed with the event', async () => {
    const victim = await enrol('DLV-1');
    // The workers are woken when something was planned, and only then.
    const listener = await t.db.connect();
    const heard: string[] = [];
    listener.on('notification', (message) => heard.push(message.payload ?? ''));
    await listener.query(`LISTEN ${DELIVERY_CHANNEL}`);
    const heardMarker = async (marker: string) => {
      await t.db.query(`SELECT pg_notify($1, $2)`, [DELIVERY_CHANNEL, marker]);
      for (let i = 0; i < 100 && !heard.includes(marker); i++) await new Promise((resolve) => setTimeout(resolve, 20));
      return heard.splice(0);
    };
    await bookPerson(t, source, 'DLV-NOBODY');
    expect(await heardMarker('nobody')).toEqual(['nobody']);

    const res = await release('DLV-1');
    expect(res.status).toBe(202);
    expect(res.body.results[0].notificationsPlanned).toBe(1);
    expect(await heardMarker('release')).toEqual(['due', 'release']);
    listener.release();
    const { rows } = await t.db.query(
      `SELECT n.id AS notification_id, d.id, d.channel, d.status FROM delivery d JOIN notification n ON n.id = d.notification_id
       WHERE n.event_id = $1 ORDER BY d.id`,
      [res.body.results[0].eventId],
    );
    expect(rows.map(({ channel, status }) => ({ channel, status })).sort((a, b) => a.channel.localeCompare(b.channel))).toEqual([
      { channel: 'email', status: 'pending' },
      { channel: 'sms', status: 'pending' },
      { channel: 'voice', status: 'pending' },
    ]);
    // Time-ordered ids (uuidv7), the deliveries of one plan consecutive.
    const v7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(rows.every((row) => v7.test(row.id) && v7.test(row.notification_id))).toBe(true);
    const low = (id: string) => BigInt(`0x${id.slice(24)}`);
    expect(rows.map((row) => low(row.id) - low(rows[0].id))).toEqual([0n, 1n, 2n]);

    expect(await drain()).toBe(3);
    const [mail] = smtp.to(victim.contacts.email);
    expect(mail.subject).toContain('Alerta de Vigil');
    expect(mail.text).toContain('PUESTO EN LIBERTAD');
    expect(mail.text).toContain('911');
    expect(mail.headers.get('content-language')).toBe('es');
    const header = (name: string) => mail.headerLines.find((line) => line.key === name)?.line.replace(/^[^:]+:\s*/, '');
    expect(header('list-unsubscribe')).toMatch(/^<https:\/\/vigil\.test\/v1\/unsubscribe\/.+\?token=.+>$/);
    expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');

    const [sms] = twilio.messagesTo(victim.contacts.sms);
    expect(sms.params.Body).toContain('911');
    expect(countSegments(sms.params.Body).segments).toBeLessThanOrEqual(2);
    expect(sms.params.StatusCallback).toMatch(/^https:\/\/vigil\.test\/v1\/webhooks\/twilio\/status\//);
    expect(sms.authorization).toMatch(/^Basic /);
    const [call] = twilio.callsTo(victim.contacts.voice);
    expect(call.params.Url).toMatch(/^https:\/\/vigil\.test\/v1\/webhooks\/twilio\/voice\//);
    expect(call.params.MachineDetection).toBe('DetectMessageEnd');

    const ledger = await t
      .http()
      .get(`/v1/registrations/${victim.registrationId}/notifications`)
      .set('Authorization', `Bearer ${victim.manageToken}`);
    expect(ledger.status).toBe(200);
    const [notification] = ledger.body.notifications;
    expect(notification).toMatchObject({ eventId: res.body.results[0].eventId, eventType: 'RELEASED', status: 'sent', escalated: false });
    expect(notification.deliveries).toHaveLength(3);
    for (const delivery of notification.deliveries) {
      expect(delivery.status).toBe('sent');
      expect(delivery.address).toContain('•');
      expect(delivery.attempts).toEqual([
        {
          attemptNo: 1,
          startedAt: expect.any(String),
          finishedAt: expect.any(String),
          outcome: 'accepted',
          providerMessageId: expect.any(String),
          errorCode: null,
          errorClass: null,
        },
      ]);
    }
    expect(await t.app.get(LedgerService).verifyChains()).toEqual([]);
  });

  it('respects eventTypes, and unverified, unsubscribed, stopped and STOPped contacts get nothing', async () => {
    const picky = await enrol('DLV-PICKY', { eventTypes: ['ESCAPED'] });
    expect((await release('DLV-PICKY')).body.results[0].notificationsPlanned).toBe(0);
    expect((await release('DLV-PICKY', 'ESCAPED')).body.results[0].notificationsPlanned).toBe(1);
    void picky;

    const personId = await bookPerson(t, source, 'DLV-UNVERIFIED');
    await register(t, { personId, language: 'en', contacts: [{ channel: 'email', address: 'never.verified@example.org' }] });
    await drain();
    const res = await release('DLV-UNVERIFIED');
    expect(res.body.results[0].notificationsPlanned).toBe(1);
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS n FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.event_id = $1`,
      [res.body.results[0].eventId],
    );
    expect(rows[0].n).toBe(0);

    const stopped = await enrol('DLV-STOPPED');
    await postEvents(
      t,
      source,
      event({ person: personWith('DLV-STOPPED'), type: 'HEARING_SCHEDULED', scheduledFor: '2026-12-01T15:00:00Z' }),
    );
    expect(
      (await t.http().delete(`/v1/registrations/${stopped.registrationId}`).set('Authorization', `Bearer ${stopped.manageToken}`)).status,
    ).toBe(204);
    const before = smtp.to(stopped.contacts.email).length;
    await drain();
    expect(smtp.to(stopped.contacts.email)).toHaveLength(before);
    expect((await release('DLV-STOPPED')).body.results[0].notificationsPlanned).toBe(0);
  });

  it('suppressed facilities, protected persons and minors plan nothing', async () => {
    await enrol('DLV-SUPP');
    const admin = await t.adminToken();
    await t
      .http()
      .put('/v1/admin/facilities/HCJ-9/suppression')
      .set('Authorization', `Bearer ${admin}`)
      .send({ suppressed: true, reason: 'maintenance' });
    const res = await release('DLV-SUPP', 'RELEASED', { facility: { code: 'HCJ-9' } });
    expect(res.body.results[0].notificationsPlanned).toBe(0);
  });

  it('a person protected after an alert was planned: what has not gone never goes, and repeat calls stop', async () => {
    const victim = await enrol('DLV-PROT-LATE');
    const sent = () => [
      smtp.to(victim.contacts.email).length,
      twilio.messagesTo(victim.contacts.sms).length,
      twilio.callsTo(victim.contacts.voice).length,
    ];
    const before = sent();
    const res = await release('DLV-PROT-LATE');
    expect(res.body.results[0].notificationsPlanned).toBe(1);
    const protect = await t
      .http()
      .put(`/v1/admin/people/${victim.personId}/protection`)
      .set('Authorization', `Bearer ${await t.adminToken()}`)
      .send({ protected: true, reason: 'court order' });
    expect(protect.status).toBe(200);
    await drain();
    const { rows } = await t.db.query(
      `SELECT d.channel, d.status, d.repeat_until FROM delivery d JOIN notification n ON n.id = d.notification_id
       WHERE n.event_id = $1 ORDER BY d.channel`,
      [res.body.results[0].eventId],
    );
    expect(rows).toEqual([
      { channel: 'email', status: 'suppressed', repeat_until: null },
      { channel: 'sms', status: 'suppressed', repeat_until: null },
      { channel: 'voice', status: 'suppressed', repeat_until: null },
    ]);
    expect(sent()).toEqual(before);
  });

  it('a CORRECTION goes to everyone who was notified of the corrected event', async () => {
    const victim = await enrol('DLV-CORR');
    const wrong = event({ person: personWith('DLV-CORR'), type: 'ESCAPED', occurredAt: '2026-11-26T17:00:00Z' });
    expect((await postEvents(t, source, wrong)).body.results[0].notificationsPlanned).toBe(1);
    await drain();
    const correction = await postEvents(
      t,
      source,
      event({ person: personWith('DLV-CORR'), type: 'CORRECTION', details: { correctsSourceEventId: wrong.sourceEventId } }),
    );
    expect(correction.body.results[0].notificationsPlanned).toBe(1);
    await drain();
    const mails = smtp.to(victim.contacts.email);
    expect(mails[mails.length - 1].text).toContain('CORRECCIÓN');
  });

  it('retries transient failures with backoff, then gives up as dead; an admin can retry a dead letter', async () => {
    const victim = await enrol('DLV-RETRY');
    const res = await release('DLV-RETRY', 'RELEASED');
    twilio.failNext('message', 503, 20003, 3);
    await drain();
    const smsDelivery = async () =>
      (
        await t.db.query(
          `SELECT d.id, d.status, d.attempts, d.due_at FROM delivery d JOIN notification n ON n.id = d.notification_id
           WHERE n.event_id = $1 AND d.channel = 'sms'`,
          [res.body.results[0].eventId],
        )
      ).rows[0];
    let row = await smsDelivery();
    expect(row).toMatchObject({ status: 'pending', attempts: 1 });
    expect(row.due_at.getTime()).toBeLessThanOrEqual(clock.now().getTime() + 5_000);

    clock.advance(10_000);
    await drain();
    clock.advance(20_000);
    await drain();
    row = await smsDelivery();
    expect(row).toMatchObject({ status: 'dead', attempts: 3 });

    const admin = await t.adminToken();
    const dead = await t.http().get('/v1/admin/deliveries?status=dead').set('Authorization', `Bearer ${admin}`);
    expect(dead.body.deliveries.map((d: { deliveryId: string }) => d.deliveryId)).toContain(row.id);
    expect((await t.http().post(`/v1/admin/deliveries/${row.id}/retry`).set('Authorization', `Bearer ${admin}`)).status).toBe(202);
    await drain();
    expect((await smsDelivery()).status).toBe('sent');
    expect(twilio.messagesTo(victim.contacts.sms).length).toBeGreaterThanOrEqual(1);

    const ledger = await t
      .http()
      .get(`/v1/registrations/${victim.registrationId}/notifications`)
      .set('Authorization', `Bearer ${victim.manageToken}`);
    const sms = ledger.body.notifications[0].deliveries.find((d: { channel: string }) => d.channel === 'sms');
    expect(sms.attempts.map((a: { outcome: string; errorCode: string | null }) => [a.outcome, a.errorCode])).toEqual([
      ['transient_error', 'twilio_20003'],
      ['transient_error', 'twilio_20003'],
      ['transient_error', 'twilio_20003'],
      ['accepted', null],
    ]);
    expect(await t.app.get(LedgerService).verifyChains()).toEqual([]);
  });

  it('does not retry a permanent failure on that contact', async () => {
    await enrol('DLV-PERM');
    smtp.failNext(550);
    const res = await release('DLV-PERM', 'ESCAPED');
    await drain();
    clock.advance(3_600_000);
    await drain();
    const { rows } = await t.db.query(
      `SELECT d.status, d.attempts, d.last_error FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.event_id = $1 AND d.channel = 'email'`,
      [res.body.results[0].eventId],
    );
    expect(rows[0]).toEqual({ status: 'failed', attempts: 1, last_error: 'smtp_550' });
  });

  it('quiet hours hold non-urgent alerts until they end; urgent ones go at once', async () => {
    // 18:00Z is 12:00 in Chicago; quiet hours 11:00–13:00 local.
    clock.set(new Date('2026-11-26T18:00:00Z'));
    await enrol('DLV-QUIET', { quietHours: { start: '11:00', end: '13:00', timeZone: 'America/Chicago' } });
    const hearing = await postEvents(
      t,
      source,
      event({ person: personWith('DLV-QUIET'), type: 'HEARING_SCHEDULED', scheduledFor: '2026-12-01T15:00:00Z' }),
    );
    const released = await release('DLV-QUIET', 'RELEASED');
    await drain();
    const statusOf = async (eventId: string) =>
      (
        await t.db.query(
          `SELECT DISTINCT d.status, d.due_at FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.event_id = $1`,
          [eventId],
        )
      ).rows;
    const held = await statusOf(hearing.body.results[0].eventId);
    expect(held).toHaveLength(1);
    expect(held[0].status).toBe('held');
    expect(held[0].due_at.toISOString()).toBe('2026-11-26T19:00:00.000Z');
    expect([...new Set((await statusOf(released.body.results[0].eventId)).map((r) => r.status))]).toEqual(['sent']);
    clock.set(new Date('2026-11-26T19:00:30Z'));
    await drain();
    expect((await statusOf(hearing.body.results[0].eventId)).map((r) => r.status)).toEqual(['sent']);
    clock.set(new Date('2026-11-26T18:00:00Z'));
  });

  it('an alert held for quiet hours never goes once consent ends: an unsubscribed email at once, then the whole registration', async () => {
    clock.set(new Date('2026-11-26T18:00:00Z'));
    const victim = await enrol('DLV-QUIET-STOP', { quietHours: { start: '11:00', end: '13:00', timeZone: 'America/Chicago' } });
    const hearing = await postEvents(
      t,
      source,
      event({ person: personWith('DLV-QUIET-STOP'), type: 'HEARING_SCHEDULED', scheduledFor: '2026-12-01T15:00:00Z' }),
    );
    await drain();
    const statuses = async () =>
      Object.fromEntries(
        (
          await t.db.query(
            `SELECT d.channel, d.status FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.event_id = $1`,
            [hearing.body.results[0].eventId],
          )
        ).rows.map((row) => [row.channel, row.status]),
      );
    expect(await statuses()).toEqual({ email: 'held', sms: 'held', voice: 'held' });

    const { rows } = await t.db.query(`SELECT id FROM contact WHERE registration_id = $1 AND channel = 'email'`, [victim.registrationId]);
    const token = t.app.get(OptOutService).unsubscribeToken(rows[0].id);
    expect(
      (await t.http().post(`/v1/unsubscribe/${rows[0].id}?token=${token}`).type('form').send('List-Unsubscribe=One-Click')).status,
    ).toBe(200);
    expect(await statuses()).toEqual({ email: 'suppressed', sms: 'held', voice: 'held' });

    const removed = await t
      .http()
      .delete(`/v1/registrations/${victim.registrationId}`)
      .set('Authorization', `Bearer ${victim.manageToken}`);
    expect(removed.status).toBe(204);
    expect(await statuses()).toEqual({ email: 'suppressed', sms: 'suppressed', voice: 'suppressed' });

    const sent = () => ({
      email: smtp.to(victim.contacts.email).length,
      sms: twilio.messagesTo(victim.contacts.sms).length,
      voice: twilio.callsTo(victim.contacts.voice).length,
    });
    const before = sent();
    clock.set(new Date('2026-11-26T19:00:30Z'));
    await drain();
    expect(sent()).toEqual(before);
    clock.set(new Date('2026-11-26T18:00:00Z'));
  });

  it('during quiet hours, the correction of an urgent alert goes at once too, with no repeat calls', async () => {
    clock.set(new Date('2026-11-26T18:00:00Z'));
    await enrol('DLV-QUIET-CORR', { quietHours: { start: '11:00', end: '13:00', timeZone: 'America/Chicago' } });
    const wrong = event({ person: personWith('DLV-QUIET-CORR'), type: 'RELEASED', occurredAt: '2026-11-26T17:30:00Z' });
    await postEvents(t, source, wrong);
    await drain();
    const correction = await postEvents(
      t,
      source,
      event({ person: personWith('DLV-QUIET-CORR'), type: 'CORRECTION', details: { correctsSourceEventId: wrong.sourceEventId } }),
    );
    await drain();
    const { rows } = await t.db.query(
      `SELECT n.kind, n.urgent, d.channel, d.status, d.repeat_until FROM delivery d JOIN notification n ON n.id = d.notification_id
       WHERE n.event_id = $1 ORDER BY d.channel`,
      [correction.body.results[0].eventId],
    );
    expect(rows.map((r) => [r.kind, r.urgent, r.channel, r.status, r.repeat_until])).toEqual([
      ['correction', true, 'email', 'sent', null],
      ['correction', true, 'sms', 'sent', null],
      ['correction', true, 'voice', 'sent', null],
    ]);
  });

  it('a specialist sees and resends their own enrollee’s notification; another specialist cannot', async () => {
    const victim = await enrol('DLV-RESEND');
    const res = await release('DLV-RESEND', 'ESCAPED');
    await drain();
    const { rows } = await t.db.query(`SELECT id FROM notification WHERE event_id = $1`, [res.body.results[0].eventId]);
    const notificationId = rows[0].id;
    const other = await t.staffToken('specialist');
    expect((await t.http().get(`/v1/notifications/${notificationId}`).set('Authorization', `Bearer ${other}`)).status).toBe(404);
    expect((await t.http().post(`/v1/notifications/${notificationId}/resend`).set('Authorization', `Bearer ${other}`)).status).toBe(404);
    expect((await t.http().get(`/v1/notifications/${notificationId}`).set('Authorization', `Bearer ${victim.manageToken}`)).status).toBe(
      401,
    );

    const view = await t.http().get(`/v1/notifications/${notificationId}`).set('Authorization', `Bearer ${specialist}`);
    expect(view.status).toBe(200);
    expect(view.body.deliveries).toHaveLength(3);
    const before = smtp.to(victim.contacts.email).length;
    const resend = await t.http().post(`/v1/notifications/${notificationId}/resend`).set('Authorization', `Bearer ${specialist}`);
    expect(resend.status).toBe(202);
    expect(resend.body.deliveries).toBe(3);
    await drain();
    expect(smtp.to(victim.contacts.email)).toHaveLength(before + 1);
    const after = await t
      .http()
      .get(`/v1/notifications/${notificationId}`)
      .set('Authorization', `Bearer ${await t.adminToken()}`);
    expect(after.body.deliveries).toHaveLength(6);
  });

  it('the ledger chain detects an edited attempt; attempts cannot be changed once finished', async () => {
    const { rows } = await t.db.query(`SELECT delivery_id, attempt_no FROM delivery_attempt WHERE outcome = 'accepted' LIMIT 1`);
    await expect(
      t.db.query(`UPDATE delivery_attempt SET outcome = 'permanent_error' WHERE delivery_id = $1`, [rows[0].delivery_id]),
    ).rejects.toThrow(/append-only/);
    await expect(t.db.query(`DELETE FROM delivery_attempt WHERE delivery_id = $1`, [rows[0].delivery_id])).rejects.toThrow(/append-only/);
    await t.db.query(`ALTER TABLE delivery_attempt DISABLE TRIGGER delivery_attempt_append_only`);
    await t.db.query(`UPDATE delivery_attempt SET provider_message_id = 'forged' WHERE delivery_id = $1 AND attempt_no = $2`, [
      rows[0].delivery_id,
      rows[0].attempt_no,
    ]);
    await t.db.query(`ALTER TABLE delivery_attempt ENABLE TRIGGER delivery_attempt_append_only`);
    expect(await t.app.get(LedgerService).verifyChains()).toEqual([rows[0].delivery_id]);
  });

  it('notifications and deliveries only point at rows that exist, and those rows stay', async () => {
    const { rows } = await t.db.query(
      `SELECT d.id, d.notification_id, d.contact_id, n.event_id, n.registration_id
       FROM delivery d JOIN notification n ON n.id = d.notification_id LIMIT 1`,
    );
    const [row] = rows;
    const missing = '00000000-0000-4000-8000-000000000000';
    const refused = { code: '23503' };
    await expect(
      t.db.query(`INSERT INTO delivery (purpose, notification_id, contact_id, channel, due_at) VALUES ('alert', $1, $2, 'sms', now())`, [
        missing,
        row.contact_id,
      ]),
    ).rejects.toMatchObject(refused);
    await expect(
      t.db.query(
        `INSERT INTO delivery (purpose, notification_id, contact_id, channel, due_at, round) VALUES ('alert', $1, $2, 'sms', now(), 99)`,
        [row.notification_id, missing],
      ),
    ).rejects.toMatchObject(refused);
    await expect(
      t.db.query(`INSERT INTO notification (event_id, registration_id, kind, urgent) VALUES ($1, $2, 'alert', false)`, [
        missing,
        row.registration_id,
      ]),
    ).rejects.toMatchObject(refused);
    await expect(t.db.query(`UPDATE delivery SET contact_id = $2 WHERE id = $1`, [row.id, missing])).rejects.toMatchObject(refused);
    await expect(t.db.query(`UPDATE notification SET event_id = $2 WHERE id = $1`, [row.notification_id, missing])).rejects.toMatchObject(
      refused,
    );
    const parents: [string, string][] = [
      ['notification', row.notification_id],
      ['contact', row.contact_id],
      ['registration', row.registration_id],
      ['custody_event', row.event_id],
    ];
    for (const [table, id] of parents) {
      await expect(t.db.query(`DELETE FROM ${table} WHERE id = $1`, [id])).rejects.toThrow(/kept for the delivery ledger/);
    }
    await expect(t.db.query(`TRUNCATE contact CASCADE`)).rejects.toThrow(/kept for the delivery ledger/);
  });
});
