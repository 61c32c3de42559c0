import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { LedgerService } from '../../src/delivery/ledger.service.js';
import { ManualClock } from '../support/manual-clock.js';
import { bookPerson } from '../support/registrations.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const GOOD = 50;

/**
 * One delivery that cannot be prepared or sent (a broken stored setting, an address that no longer
 * decrypts) is that delivery's failure alone: it is recorded as an attempt, retried on the policy
 * and ends dead; the rest of its batch goes out.
 */
describe('a delivery that cannot be prepared, in a batch of good ones', () => {
  let t: TestApp;
  let smtp: SmtpSink;
  let source: TestSource;
  let specialist: string;
  const clock = new ManualClock(new Date('2026-11-26T18:00:00Z'));

  beforeAll(async () => {
    smtp = new SmtpSink();
    await smtp.start();
    t = await startTestApp({
      clock,
      env: { SMTP_URL: smtp.url, PUBLIC_BASE_URL: 'https://vigil.test', RETRY_MAX_ATTEMPTS: '3', PUBLIC_RATE_LIMIT_PER_MINUTE: '10000' },
    });
    source = await createSource(t);
    specialist = await t.staffToken('specialist');
  });
  afterAll(async () => {
    await t.close();
    await smtp.stop();
  });

  const drain = () => t.app.get(DispatcherService).drain();

  async function enrol(personId: string, email: string, extra: Record<string, unknown> = {}) {
    const res = await t
      .http()
      .post('/v1/enrollments')
      .set('Authorization', `Bearer ${specialist}`)
      .send({ personId, language: 'en', contacts: [{ channel: 'email', address: email }], ...extra });
    expect(res.status).toBe(201);
    return res.body as { registrationId: string; contacts: { contactId: string }[] };
  }

  it('#11.1 poison batch: a broken stored setting fails its own delivery (attempts in the ledger, then dead); the 50 others in its batch are delivered', async () => {
    const personId = await bookPerson(t, source, 'POISON-1');
    const quiet = { start: '22:00', end: '07:00', timeZone: 'America/Chicago' };
    for (let i = 0; i < GOOD; i++) await enrol(personId, `good${i}@example.org`, { quietHours: quiet });
    // Quiet hours no code can read (the database now refuses the array validation once let through) and an address that
    // no longer decrypts.
    const emptyQuiet = await enrol(personId, 'empty-quiet@example.org', { quietHours: quiet });
    await t.db.query(
      `UPDATE registration SET quiet_hours = '{"start":"25:99","end":"07:00","timeZone":"Mars/Olympus_Mons"}'::jsonb WHERE id = $1`,
      [emptyQuiet.registrationId],
    );
    const broken = await enrol(personId, 'broken@example.org');
    await t.db.query(`UPDATE contact SET address = 'v1:not-a-ciphertext' WHERE id = $1`, [broken.contacts[0].contactId]);

    const res = await postEvents(
      t,
      source,
      event({ person: personWith('POISON-1'), type: 'TRANSFERRED', toFacility: { code: 'TDCJ-2', name: 'State Prison' } }),
    );
    expect(res.status).toBe(202);
    expect(res.body.results[0].notificationsPlanned).toBe(GOOD + 2);

    // Noon in Chicago: outside the quiet hours. Every delivery of the event is claimed in one batch.
    expect(await drain()).toBe(GOOD + 2);
    for (let i = 0; i < GOOD; i++) expect(smtp.to(`good${i}@example.org`)).toHaveLength(1);
    // An unreadable quiet-hours setting does not hold an alert back.
    expect(smtp.to('empty-quiet@example.org')).toHaveLength(1);

    // The broken one is retried on the policy (RETRY_MAX_ATTEMPTS=3, backoff capped well under an hour), then dead.
    for (let i = 0; i < 3; i++) {
      clock.advance(60 * 60_000);
      await drain();
    }
    const { rows } = await t.db.query(
      `SELECT d.status, d.last_error, array_agg(a.outcome || '/' || coalesce(a.error_class, '-') ORDER BY a.attempt_no) AS attempts
       FROM delivery d JOIN notification n ON n.id = d.notification_id LEFT JOIN delivery_attempt a ON a.delivery_id = d.id
       WHERE n.event_id = $1 GROUP BY d.id`,
      [res.body.results[0].eventId],
    );
    const dead = rows.filter((row) => row.status === 'dead');
    expect(dead).toEqual([
      {
        status: 'dead',
        last_error: 'cipher_malformed',
        attempts: ['transient_error/cipher', 'transient_error/cipher', 'transient_error/cipher'],
      },
    ]);
    expect(rows.filter((row) => row.status === 'sent')).toHaveLength(GOOD + 1);
    expect(rows.filter((row) => row.status === 'sent').every((row) => row.attempts.join() === 'accepted/-')).toBe(true);
    expect(await t.app.get(LedgerService).verifyChains()).toEqual([]);

    // Dead letters show it to admins; nothing in the logs quotes an address.
    const letters = await t
      .http()
      .get('/v1/admin/deliveries?status=dead')
      .set('Authorization', `Bearer ${await t.adminToken()}`);
    expect(letters.status).toBe(200);
    expect(JSON.stringify(letters.body)).toContain('cipher_malformed');
    expect(t.logs.join('\n')).not.toContain('@example.org');
  });
});
