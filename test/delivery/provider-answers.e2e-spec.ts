import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { FakeTwilio } from '../support/fake-twilio.js';
import { bookPerson } from '../support/registrations.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

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
  });
});
