import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { FakeTwilio } from '../support/fake-twilio.js';
import { lockWaiters } from '../support/lock-waiters.js';
import { bookPerson } from '../support/registrations.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const TOKEN = 'test-token';
const BASE = 'https://vigil.test';

describe('Twilio callbacks that lose a deadlock', () => {
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

  it('#11.3 deadlock retried: a status callback chosen as the deadlock victim runs again, answers 204 and applies once', async () => {
    const personId = await bookPerson(t, source, 'RETRY-SMS');
    const enrolled = await t
      .http()
      .post('/v1/enrollments')
      .set('Authorization', `Bearer ${specialist}`)
      .send({ personId, language: 'en', contacts: [{ channel: 'sms', address: '+17135558900' }] });
    expect(enrolled.status, enrolled.text).toBe(201);
    const sent = await postEvents(t, source, event({ type: 'RELEASED', person: personWith('RETRY-SMS') }));
    expect(sent.status, sent.text).toBe(202);
    await t.app.get(DispatcherService).drain();
    const {
      rows: [delivery],
    } = await t.db.query(
      `SELECT d.id, d.provider_message_id, d.status FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.event_id = $1`,
      [sent.body.results[0].eventId],
    );
    expect(delivery.status).toBe('sent');

    // The callback records that it was heard, then waits for the delivery we hold; we then wait to
    // record the same hearing: PostgreSQL aborts the one that waited first (the callback).
    const other = await t.db.connect();
    try {
      await other.query('BEGIN');
      await other.query(`SELECT 1 FROM delivery WHERE id = $1 FOR UPDATE`, [delivery.id]);
      const answer = signed(`/v1/webhooks/twilio/status/${delivery.id}`, {
        MessageSid: delivery.provider_message_id,
        MessageStatus: 'delivered',
      }).then((res) => res);
      await lockWaiters(t.db, 1);
      await other.query(`INSERT INTO twilio_callback_heard (sid, event, heard_at) VALUES ($1, 'message:delivered', now())`, [
        delivery.provider_message_id,
      ]);
      await other.query('ROLLBACK');

      const res = await answer;
      expect(res.status, res.text).toBe(204);
    } finally {
      other.release();
    }
    const { rows } = await t.db.query(`SELECT status FROM delivery WHERE id = $1`, [delivery.id]);
    expect(rows[0].status).toBe('delivered');
    const heard = await t.db.query(`SELECT count(*)::int AS n FROM twilio_callback_heard WHERE sid = $1`, [delivery.provider_message_id]);
    expect(heard.rows[0].n).toBe(1);
    expect(t.logs.some((line) => line.includes('40P01') && line.includes('running it again'))).toBe(true);
  });
});
