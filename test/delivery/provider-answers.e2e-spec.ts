import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryReportsService } from '../../src/delivery/delivery-reports.service.js';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { FakeTwilio } from '../support/fake-twilio.js';
import { lockWaiters } from '../support/lock-waiters.js';
import { bookPerson } from '../support/registrations.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const TOKEN = 'test-token';
const BASE = 'https://vigil.test';

/** What a provider answers is data, not trusted: nothing in it may keep a batch from being recorded. */
describe('provider answers that cannot be stored as they are', () => {
  let t: TestApp;
  let fake: FakeTwilio;
  let source: TestSource;
  let specialist: string;

  beforeAll(async () => {
    fake = new FakeTwilio();
    await fake.start();
    t = await startTestApp({
      env: {
        TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
        TWILIO_AUTH_TOKEN: 'test-token',
        TWILIO_FROM_NUMBER: '+15005550006',
        TWILIO_API_BASE_URL: fake.baseUrl,
        PUBLIC_BASE_URL: 'https://vigil.test',
      },
    });
    source = await createSource(t);
    specialist = await t.staffToken('specialist');
  });
  afterAll(async () => {
    await t.close();
    await fake.stop();
  });

  it('#review-delivery.2 an error text with a NUL byte fails its own delivery once; its batch is recorded, nobody is sent twice', async () => {
    const personId = await bookPerson(t, source, 'NUL-ANSWER');
    for (const phone of ['+17135550101', '+17135550102']) {
      const enrolled = await t
        .http()
        .post('/v1/enrollments')
        .set('Authorization', `Bearer ${specialist}`)
        .send({ personId, language: 'en', contacts: [{ channel: 'sms', address: phone }] });
      expect(enrolled.status, enrolled.text).toBe(201);
    }
    const dispatcher = t.app.get(DispatcherService);
    await dispatcher.drain();
    const before = fake.requests.length;

    const sent = await postEvents(t, source, event({ type: 'RELEASED', person: personWith('NUL-ANSWER') }));
    expect(sent.status, sent.text).toBe(202);
    fake.failNext('message', 400, 21211, 1, "The 'To' number is not valid\u0000");
    await dispatcher.drain();

    const { rows } = await t.db.query(
      `SELECT d.status, a.outcome, a.response_excerpt AS excerpt FROM delivery d
       JOIN notification n ON n.id = d.notification_id JOIN delivery_attempt a ON a.delivery_id = d.id
       WHERE n.event_id = $1 ORDER BY d.status`,
      [sent.body.results[0].eventId],
    );
    expect(rows.map((row) => [row.status, row.outcome])).toEqual([
      ['failed', 'permanent_error'],
      ['sent', 'accepted'],
    ]);
    expect(rows[0].excerpt).toContain("The 'To' number is not valid");
    // One refused, one accepted: nothing goes out again when the leases would have run out.
    expect(fake.requests.length - before).toBe(1);
    expect(t.logs.some((line) => line.includes('dispatch batch failed'))).toBe(false);
    expect(t.logs.filter((line) => line.includes('7135550101') || line.includes('7135550102'))).toEqual([]);
  });
});

describe('a report that arrived before its batch recorded the message', () => {
  let t: TestApp;
  let fake: FakeTwilio;
  let source: TestSource;
  let specialist: string;

  beforeAll(async () => {
    fake = new FakeTwilio();
    await fake.start();
    t = await startTestApp({
      env: {
        TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
        TWILIO_AUTH_TOKEN: TOKEN,
        TWILIO_FROM_NUMBER: '+15005550006',
        TWILIO_API_BASE_URL: fake.baseUrl,
        PUBLIC_BASE_URL: BASE,
      },
    });
    source = await createSource(t);
    specialist = await t.staffToken('specialist');
  });
  afterAll(async () => {
    await t.close();
    await fake.stop();
  });

  const signed = (path: string, params: Record<string, string>) =>
    t
      .http()
      .post(path)
      .type('form')
      .set('X-Twilio-Signature', twilio.getExpectedTwilioSignature(TOKEN, `${BASE}${path}`, params))
      .send(params);

  it('#review-delivery.4 an early "undelivered" report is not lost when applying it fails: it is kept, then applied', async () => {
    const personId = await bookPerson(t, source, 'EARLY-LOST');
    const enrolled = await t
      .http()
      .post('/v1/enrollments')
      .set('Authorization', `Bearer ${specialist}`)
      .send({ personId, language: 'en', contacts: [{ channel: 'sms', address: '+17135550301' }] });
    expect(enrolled.status, enrolled.text).toBe(201);
    const dispatcher = t.app.get(DispatcherService);
    await dispatcher.drain();
    const sent = await postEvents(t, source, event({ type: 'RELEASED', person: personWith('EARLY-LOST') }));
    expect(sent.status, sent.text).toBe(202);

    const before = fake.requests.length;
    const release = fake.hold();
    const batch = await dispatcher.claim(10);
    expect(batch.ids).toHaveLength(1);
    const [id] = batch.ids;
    const sending = dispatcher.send(batch);
    for (let i = 0; i < 2000 && fake.requests.length <= before; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    const { sid } = fake.requests[before];
    // The carrier's answer comes before the batch has recorded the message id: kept for the batch.
    const early = await signed(`/v1/webhooks/twilio/status/${id}`, { MessageSid: sid, MessageStatus: 'undelivered', ErrorCode: '30003' });
    expect(early.status, early.text).toBe(204);

    const reports = await t.db.connect();
    const delivery = await t.db.connect();
    try {
      // The batch records its outcome, then waits to take the kept report; then, report taken, waits to apply it.
      await reports.query('BEGIN');
      await reports.query(`SELECT 1 FROM provider_report WHERE delivery_id = $1 FOR UPDATE`, [id]);
      release();
      await lockWaiters(t.db, 1);
      await delivery.query('BEGIN');
      await delivery.query(`SELECT 1 FROM delivery WHERE id = $1 FOR NO KEY UPDATE`, [id]);
      await reports.query('COMMIT');
      // Applying it fails there (a worker killed, a connection lost).
      let killed = 0;
      for (let i = 0; i < 2000 && !killed; i++) {
        const { rows } = await t.db.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'UPDATE delivery SET status%'`,
        );
        killed = rows.length;
        if (!killed) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(killed).toBe(1);
      await delivery.query('ROLLBACK');
      await sending;
    } finally {
      reports.release();
      delivery.release();
    }

    const kept = await t.db.query(`SELECT count(*)::int AS n FROM provider_report WHERE delivery_id = $1`, [id]);
    expect(kept.rows[0].n, 'the report is still kept').toBe(1);
    await t.app.get(DeliveryReportsService).applyStranded();
    const { rows } = await t.db.query(`SELECT status, last_error FROM delivery WHERE id = $1`, [id]);
    expect(rows[0]).toEqual({ status: 'pending', last_error: 'twilio_30003' });
    const left = await t.db.query(`SELECT count(*)::int AS n FROM provider_report WHERE delivery_id = $1`, [id]);
    expect(left.rows[0].n).toBe(0);
    // The failure is logged without the number it was about.
    expect(t.logs.some((line) => line.includes('dispatch batch failed'))).toBe(true);
    expect(t.logs.filter((line) => line.includes('7135550301'))).toEqual([]);
  });
});
