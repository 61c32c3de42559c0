import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVERY_STATUSES, statusAfter, statusAfterSql } from '../../src/database/delivery.repository.js';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { FakeTwilio } from '../support/fake-twilio.js';
import { ManualClock } from '../support/manual-clock.js';
import { bookPerson } from '../support/registrations.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const TOKEN = 'test-token';
const BASE = 'https://vigil.test';
const PIN = '2468';
const T0 = new Date('2026-11-26T18:00:00Z');

/**
 * Twilio signs its callbacks without a timestamp, so anyone who captured one can send it again. A
 * second copy of a status report, a PIN entry or an inbound STOP/START changes nothing.
 */
describe('replayed and late Twilio callbacks', () => {
  let t: TestApp;
  let fake: FakeTwilio;
  let source: TestSource;
  let specialist: string;
  const clock = new ManualClock(T0);
  let phone = 7135558000;

  beforeAll(async () => {
    fake = new FakeTwilio();
    await fake.start();
    t = await startTestApp({
      clock,
      env: {
        PUBLIC_RATE_LIMIT_PER_MINUTE: '10000',
        TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
        TWILIO_AUTH_TOKEN: TOKEN,
        TWILIO_FROM_NUMBER: '+15005550006',
        TWILIO_API_BASE_URL: fake.baseUrl,
        PUBLIC_BASE_URL: BASE,
      },
    });
    source = await createSource(t, { expectedIntervalSeconds: 600 });
    specialist = await t.staffToken('specialist');
  });
  afterAll(async () => {
    await t.close();
    await fake.stop();
  });

  const drain = () => t.app.get(DispatcherService).drain();
  const signed = (path: string, params: Record<string, string>) =>
    t
      .http()
      .post(path)
      .type('form')
      .set('X-Twilio-Signature', twilio.getExpectedTwilioSignature(TOKEN, `${BASE}${path}`, params))
      .send(params);

  async function enrol(identifier: string, channel: 'sms' | 'voice') {
    const personId = await bookPerson(t, source, identifier);
    const number = `+1${++phone}`;
    const res = await t
      .http()
      .post('/v1/enrollments')
      .set('Authorization', `Bearer ${specialist}`)
      .send({ personId, language: 'en', pin: PIN, contacts: [{ channel, address: number }] });
    expect(res.status).toBe(201);
    return { number, registrationId: res.body.registrationId as string };
  }

  /** An event about the person, sent; its one delivery row (all columns) and the ledger's attempts. */
  async function alert(identifier: string, type: string) {
    const res = await postEvents(
      t,
      source,
      event({ person: personWith(identifier), type, occurredAt: new Date(clock.now().getTime() - 60_000).toISOString() }),
    );
    expect(res.status).toBe(202);
    await drain();
    const eventId = res.body.results[0].eventId as string;
    const row = async () =>
      (
        await t.db.query(
          `SELECT d.*, (SELECT count(*)::int FROM delivery_attempt a WHERE a.delivery_id = d.id) AS ledger
           FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.event_id = $1`,
          [eventId],
        )
      ).rows[0];
    return { eventId, row, first: await row() };
  }

  const inbound = (from: string, body: string, sid: string) =>
    signed('/v1/webhooks/twilio/sms-inbound', {
      From: from,
      Body: body,
      MessageSid: sid,
      AccountSid: 'AC00000000000000000000000000000000',
    });
  const optOuts = async () => (await t.db.query(`SELECT count(*)::int AS n FROM phone_opt_out`)).rows[0].n as number;

  it('#11.16 a replayed status callback changes nothing: an answered call does not push the next call later, a delivered SMS is not touched', async () => {
    clock.set(T0);
    await enrol('REPLAY-CALL', 'voice');
    const call = await alert('REPLAY-CALL', 'RELEASED');
    const path = `/v1/webhooks/twilio/status/${call.first.id}`;
    const answered = { CallSid: call.first.provider_message_id, CallStatus: 'completed', CallDuration: '35', AnsweredBy: 'human' };
    expect((await signed(path, answered)).status).toBe(204);
    const afterFirst = await call.row();
    expect(afterFirst.status).toBe('delivered');

    clock.advance(20 * 60_000);
    expect((await signed(path, answered)).status).toBe(204);
    expect(await call.row()).toEqual(afterFirst);

    clock.set(T0);
    await enrol('REPLAY-SMS', 'sms');
    const sms = await alert('REPLAY-SMS', 'RELEASED');
    const smsPath = `/v1/webhooks/twilio/status/${sms.first.id}`;
    const delivered = { MessageSid: sms.first.provider_message_id, MessageStatus: 'delivered' };
    expect((await signed(smsPath, delivered)).status).toBe(204);
    const deliveredRow = await sms.row();
    clock.advance(5 * 60_000);
    expect((await signed(smsPath, delivered)).status).toBe(204);
    expect(await sms.row()).toEqual(deliveredRow);
    expect(deliveredRow.ledger).toBe(1);
    clock.set(T0);
  });

  it('#11.16 a replayed PIN entry is answered the same and confirms nothing twice', async () => {
    clock.set(T0);
    await enrol('REPLAY-PIN', 'voice');
    const call = await alert('REPLAY-PIN', 'ESCAPED');
    const pinPath = `/v1/webhooks/twilio/voice/${call.first.id}/pin?try=1`;
    const entry = { CallSid: call.first.provider_message_id, Digits: PIN };
    const first = await signed(pinPath, entry);
    expect(first.text).toContain('<Hangup');
    const confirmed = await call.row();
    expect(confirmed.status).toBe('confirmed');
    const heard = await t.db.query(`SELECT count(*)::int AS n FROM twilio_callback_heard WHERE sid = $1 AND event = 'pin'`, [
      call.first.provider_message_id,
    ]);
    expect(heard.rows[0].n).toBe(1);

    clock.advance(10 * 60_000);
    const again = await signed(pinPath, entry);
    expect(again.text).toBe(first.text);
    expect(await call.row()).toEqual(confirmed);
    // No PIN is kept in what was heard.
    const keys = await t.db.query(`SELECT sid, event FROM twilio_callback_heard`);
    expect(JSON.stringify(keys.rows)).not.toContain(PIN);
    clock.set(T0);
  });

  it('#11.16 inbound STOP, START, then a replayed STOP: the number stays opted in (each inbound message applies once, in the order Twilio delivered them)', async () => {
    clock.set(T0);
    const victim = await enrol('REPLAY-STOP', 'sms');
    const before = await optOuts();
    expect((await inbound(victim.number, 'STOP', 'SMstop1')).status).toBe(200);
    expect(await optOuts()).toBe(before + 1);
    expect((await inbound(victim.number, 'START', 'SMstart1')).status).toBe(200);
    expect(await optOuts()).toBe(before);

    // The captured STOP again: not a new message.
    expect((await inbound(victim.number, 'STOP', 'SMstop1')).status).toBe(200);
    expect(await optOuts()).toBe(before);
    const sent = await alert('REPLAY-STOP', 'RELEASED');
    expect(sent.first.status).toBe('sent');
    expect(fake.messagesTo(victim.number)).toHaveLength(1);

    // A new STOP, then the captured START again: the number stays opted out.
    expect((await inbound(victim.number, 'STOP', 'SMstop2')).status).toBe(200);
    expect((await inbound(victim.number, 'START', 'SMstart1')).status).toBe(200);
    expect(await optOuts()).toBe(before + 1);
    await alert('REPLAY-STOP', 'ESCAPED');
    expect(fake.messagesTo(victim.number)).toHaveLength(1);
  });

  it('#11.20 forward-only rules, one copy: the SQL form agrees with statusAfter for every pair of statuses', async () => {
    const pairs = DELIVERY_STATUSES.flatMap((current) => DELIVERY_STATUSES.map((proposed) => [current, proposed] as const));
    const { rows } = await t.db.query(
      `SELECT ${statusAfterSql('v.current', 'v.proposed')} AS after FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS v(current, proposed, n) ORDER BY n`,
      [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
    );
    expect(rows.map((row) => row.after)).toEqual(pairs.map(([current, proposed]) => statusAfter(current, proposed)));
    expect(statusAfter('delivered', 'sent')).toBe('delivered');
    expect(statusAfter('confirmed', 'failed')).toBe('confirmed');
    expect(statusAfter('sending', 'pending')).toBe('pending');
  });

  it('#11.20 a late "sent" report never moves a delivery back: not after delivered, and not after undelivered scheduled a retry', async () => {
    clock.set(T0);
    const victim = await enrol('LATE-SENT', 'sms');
    const sms = await alert('LATE-SENT', 'RELEASED');
    const path = `/v1/webhooks/twilio/status/${sms.first.id}`;
    const sid = sms.first.provider_message_id as string;
    await signed(path, { MessageSid: sid, MessageStatus: 'undelivered', ErrorCode: '30003' });
    const retrying = await sms.row();
    expect(retrying.status).toBe('pending');
    // Twilio's "sent" for the same message arrives after its "undelivered" (callbacks are not ordered).
    await signed(path, { MessageSid: sid, MessageStatus: 'sent' });
    expect((await sms.row()).status).toBe('pending');

    clock.advance(20 * 60_000);
    await drain();
    expect(fake.messagesTo(victim.number)).toHaveLength(2);
    const retried = await sms.row();
    expect(retried.status).toBe('sent');
    await signed(path, { MessageSid: retried.provider_message_id, MessageStatus: 'delivered' });
    await signed(path, { MessageSid: retried.provider_message_id, MessageStatus: 'sending' });
    expect((await sms.row()).status).toBe('delivered');
    clock.set(T0);
  });
});
