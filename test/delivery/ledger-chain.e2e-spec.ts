import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { LedgerService } from '../../src/delivery/ledger.service.js';
import { FakeTwilio } from '../support/fake-twilio.js';
import { ManualClock } from '../support/manual-clock.js';
import { bookPerson } from '../support/registrations.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** The ledger's chain verifies whatever order workers' writes land in; only an edit breaks it. */
describe('the attempt chain under lost leases', () => {
  let t: TestApp;
  let fake: FakeTwilio;
  let source: TestSource;
  let specialist: string;
  const clock = new ManualClock(new Date('2026-11-26T18:00:00Z'));

  beforeAll(async () => {
    fake = new FakeTwilio();
    await fake.start();
    t = await startTestApp({
      clock,
      env: {
        TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
        TWILIO_AUTH_TOKEN: 'test-token',
        TWILIO_FROM_NUMBER: '+15005550006',
        TWILIO_API_BASE_URL: fake.baseUrl,
        PUBLIC_BASE_URL: 'https://vigil.test',
        DELIVERY_LEASE_SECONDS: '60',
      },
    });
    source = await createSource(t);
    specialist = await t.staffToken('specialist');
  });
  afterAll(async () => {
    await t.close();
    await fake.stop();
  });

  async function sentTo(count: number): Promise<void> {
    for (let i = 0; i < 2000 && fake.requests.length < count; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(fake.requests.length).toBeGreaterThanOrEqual(count);
  }

  it('#review-delivery.3 an attempt whose lease ran out and that ended after the next one started still verifies', async () => {
    const personId = await bookPerson(t, source, 'CHAIN-LEASE');
    const enrolled = await t
      .http()
      .post('/v1/enrollments')
      .set('Authorization', `Bearer ${specialist}`)
      .send({ personId, language: 'en', contacts: [{ channel: 'sms', address: '+17135550201' }] });
    expect(enrolled.status, enrolled.text).toBe(201);
    const dispatcher = t.app.get(DispatcherService);
    await dispatcher.drain();
    const sent = await postEvents(t, source, event({ type: 'RELEASED', person: personWith('CHAIN-LEASE') }));
    expect(sent.status, sent.text).toBe(202);

    // Worker A's provider call hangs past its lease; the delivery is claimed again and sent while A's attempt is unfinished.
    const release = fake.hold();
    const before = fake.requests.length;
    const first = await dispatcher.claim(10);
    expect(first.ids).toHaveLength(1);
    const sendingA = dispatcher.send(first);
    await sentTo(before + 1);
    clock.advance(61_000);
    const second = await dispatcher.claim(10);
    expect(second.ids).toEqual(first.ids);
    const sendingB = dispatcher.send(second);
    await sentTo(before + 2);
    release();
    await Promise.all([sendingA, sendingB]);

    const { rows } = await t.db.query(
      `SELECT attempt_no, outcome, prev_hash IS NULL AS unchained FROM delivery_attempt WHERE delivery_id = $1 ORDER BY attempt_no`,
      [first.ids[0]],
    );
    expect(rows).toEqual([
      { attempt_no: 1, outcome: 'accepted', unchained: true },
      { attempt_no: 2, outcome: 'accepted', unchained: true },
    ]);
    expect(await t.app.get(LedgerService).verifyChains()).toEqual([]);

    // An edit is still found.
    await t.db.query(`ALTER TABLE delivery_attempt DISABLE TRIGGER delivery_attempt_append_only`);
    await t.db.query(`UPDATE delivery_attempt SET provider_message_id = 'SMforged' WHERE delivery_id = $1 AND attempt_no = 1`, [
      first.ids[0],
    ]);
    await t.db.query(`ALTER TABLE delivery_attempt ENABLE TRIGGER delivery_attempt_append_only`);
    expect(await t.app.get(LedgerService).verifyChains()).toEqual([first.ids[0]]);
  });
});
