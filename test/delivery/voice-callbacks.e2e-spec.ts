import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { StaffAlertsService } from '../../src/delivery/staff-alerts.service.js';
import { FeedHealthService } from '../../src/sources/feed-health.service.js';
import { FakeTwilio } from '../support/fake-twilio.js';
import { ManualClock } from '../support/manual-clock.js';
import { bookPerson, register } from '../support/registrations.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const TOKEN = 'test-token';
const BASE = 'https://vigil.test';
const PIN = '2468';

describe('voice, PIN confirmation, callbacks and escalation', () => {
  let t: TestApp;
  let smtp: SmtpSink;
  let fake: FakeTwilio;
  let source: TestSource;
  let specialistEmail: string;
  let specialist: string;
  const clock = new ManualClock(new Date('2026-11-26T18:00:00Z'));
  let phone = 7135550600;

  beforeAll(async () => {
    smtp = new SmtpSink();
    fake = new FakeTwilio();
    await Promise.all([smtp.start(), fake.start()]);
    t = await startTestApp({
      clock,
      env: {
        PUBLIC_RATE_LIMIT_PER_MINUTE: '10000',
        SMTP_URL: smtp.url,
        TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
        TWILIO_AUTH_TOKEN: TOKEN,
        TWILIO_FROM_NUMBER: '+15005550006',
        TWILIO_API_BASE_URL: fake.baseUrl,
        PUBLIC_BASE_URL: BASE,
      },
    });
    source = await createSource(t, { expectedIntervalSeconds: 600 });
    specialistEmail = 'specialist.voice@test.vigil';
    specialist = await t.staffToken('specialist', specialistEmail);
  });
  afterAll(async () => {
    await t.close();
    await Promise.all([smtp.stop(), fake.stop()]);
  });

  const drain = () => t.app.get(DispatcherService).drain();
  const signed = (path: string, params: Record<string, string>, signature?: string) =>
    t
      .http()
      .post(path)
      .type('form')
      .set('X-Twilio-Signature', signature ?? twilio.getExpectedTwilioSignature(TOKEN, `${BASE}${path}`, params))
      .send(params);
  const pathOf = (url: string) => url.slice(BASE.length);

  async function enrolVoice(identifier: string, channels: ('voice' | 'sms')[] = ['voice'], language: 'en' | 'es' = 'es') {
    const personId = await bookPerson(t, source, identifier);
    const numbers = channels.map(() => `+1${++phone}`);
    const res = await t
      .http()
      .post('/v1/enrollments')
      .set('Authorization', `Bearer ${specialist}`)
      .send({ personId, language, pin: PIN, contacts: channels.map((channel, i) => ({ channel, address: numbers[i] })) });
    expect(res.status).toBe(201);
    return { ...res.body, numbers } as { registrationId: string; manageToken: string; numbers: string[] };
  }

  const release = (identifier: string) =>
    postEvents(t, source, event({ person: personWith(identifier), type: 'RELEASED', occurredAt: '2026-11-26T17:55:00Z' }));
  const voiceDelivery = async (eventId: string) =>
    (
      await t.db.query(
        `SELECT d.id, d.status, d.due_at, d.repeat_until FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.event_id = $1 AND d.channel = 'voice'`,
        [eventId],
      )
    ).rows[0];

  it('an urgent call asks for the PIN in the registrant’s language; a wrong PIN may be retried, the right one confirms and stops the calls', async () => {
    clock.set(new Date('2026-11-26T18:00:00Z'));
    const victim = await enrolVoice('VOICE-1');
    const res = await release('VOICE-1');
    await drain();
    const [call] = fake.callsTo(victim.numbers[0]);
    expect(call).toBeDefined();
    const voicePath = pathOf(call.params.Url);

    const twiml = await signed(voicePath, { CallSid: 'CA1', AnsweredBy: 'human' });
    expect(twiml.status).toBe(200);
    expect(twiml.text).toContain('<Gather');
    expect(twiml.text).toContain('numDigits="4"');
    expect(twiml.text).toContain('language="es-US"');
    expect(twiml.text).toContain('911');
    expect(twiml.text).toContain('PUESTO EN LIBERTAD');

    const pinPath = `${voicePath}/pin?try=1`;
    const wrong = await signed(pinPath, { Digits: '1111' });
    expect(wrong.text).toContain('<Gather');
    expect(wrong.text).toContain('try=2');
    const right = await signed(`${voicePath}/pin?try=2`, { Digits: PIN });
    expect(right.text).toContain('Gracias');
    expect((await voiceDelivery(res.body.results[0].eventId)).status).toBe('confirmed');

    clock.advance(31 * 60_000);
    await drain();
    expect(fake.callsTo(victim.numbers[0])).toHaveLength(1);
    clock.set(new Date('2026-11-26T18:00:00Z'));
  });

  it('a repeating urgent call that keeps failing waits for its next regular call, never redials at once', async () => {
    clock.set(new Date('2026-11-26T18:00:00Z'));
    const victim = await enrolVoice('VOICE-FAILING');
    const res = await release('VOICE-FAILING');
    await drain();
    expect(fake.callsTo(victim.numbers[0])).toHaveLength(1);
    const { id } = await voiceDelivery(res.body.results[0].eventId);
    const attempts = async () =>
      (await t.db.query(`SELECT count(*)::int AS n FROM delivery_attempt WHERE delivery_id = $1`, [id])).rows[0].n;

    fake.failNext('call', 503, 20003, 1000);
    try {
      clock.advance(31 * 60_000);
      // Eight failing tries (RETRY_MAX_ATTEMPTS) on the backoff schedule (cap 15 min).
      for (let i = 0; i < 8; i++) {
        await drain();
        clock.advance(16 * 60_000);
      }
      const afterFailures = await attempts();
      // The answered first call, then one failing try per drain: no burst of redials.
      expect(afterFailures).toBe(9);
      const row = await voiceDelivery(res.body.results[0].eventId);
      expect(row.status).toBe('sent');
      expect(row.repeat_until).not.toBeNull();
      expect(row.due_at.getTime()).toBeGreaterThan(clock.now().getTime());
      await drain();
      await drain();
      expect(await attempts()).toBe(afterFailures);
    } finally {
      fake.clearFailures();
      clock.set(new Date('2026-11-26T18:00:00Z'));
    }
  });

  it('a call answered after its person became protected says nothing about them', async () => {
    const victim = await enrolVoice('VOICE-PROTECTED');
    const res = await release('VOICE-PROTECTED');
    await drain();
    const [call] = fake.callsTo(victim.numbers[0]);
    const { rows } = await t.db.query(`SELECT person_id FROM custody_event WHERE id = $1`, [res.body.results[0].eventId]);
    const protect = await t
      .http()
      .put(`/v1/admin/people/${rows[0].person_id}/protection`)
      .set('Authorization', `Bearer ${await t.adminToken()}`)
      .send({ protected: true, reason: 'court order' });
    expect(protect.status).toBe(200);
    const twiml = await signed(pathOf(call.params.Url), { CallSid: call.sid, AnsweredBy: 'human' });
    expect(twiml.status).toBe(200);
    expect(twiml.text).toContain('<Hangup');
    expect(twiml.text).not.toContain('<Gather');
    expect(twiml.text).not.toContain('PUESTO EN LIBERTAD');
    expect(twiml.text).not.toContain('911');
  });

  it('three wrong PINs end the call', async () => {
    const victim = await enrolVoice('VOICE-WRONG');
    await release('VOICE-WRONG');
    await drain();
    const voicePath = pathOf(fake.callsTo(victim.numbers[0])[0].params.Url);
    const last = await signed(`${voicePath}/pin?try=3`, { Digits: '0000' });
    expect(last.text).toContain('<Hangup');
    expect(last.text).not.toContain('<Gather');
  });

  it('calls again every 30 minutes until the PIN; answered without it, every 2 hours; never after 24 hours', async () => {
    clock.set(new Date('2026-11-26T18:00:00Z'));
    const victim = await enrolVoice('VOICE-REPEAT');
    const res = await release('VOICE-REPEAT');
    const eventId = res.body.results[0].eventId;
    await drain();
    expect(fake.callsTo(victim.numbers[0])).toHaveLength(1);
    clock.advance(29 * 60_000);
    await drain();
    expect(fake.callsTo(victim.numbers[0])).toHaveLength(1);
    clock.advance(2 * 60_000);
    await drain();
    const calls = fake.callsTo(victim.numbers[0]);
    expect(calls).toHaveLength(2);
    expect((await voiceDelivery(eventId)).status).toBe('sent');

    // Answered by a person who hung up without the PIN: the next call waits two hours.
    const delivery = await voiceDelivery(eventId);
    const { rows } = await t.db.query(`SELECT provider_message_id FROM delivery WHERE id = $1`, [delivery.id]);
    const statusPath = `/v1/webhooks/twilio/status/${delivery.id}`;
    expect(
      (await signed(statusPath, { CallSid: rows[0].provider_message_id, CallStatus: 'completed', CallDuration: '25', AnsweredBy: 'human' }))
        .status,
    ).toBe(204);
    expect((await voiceDelivery(eventId)).status).toBe('delivered');
    clock.advance(60 * 60_000);
    await drain();
    expect(fake.callsTo(victim.numbers[0])).toHaveLength(2);
    clock.advance(61 * 60_000);
    await drain();
    expect(fake.callsTo(victim.numbers[0])).toHaveLength(3);

    const ledger = await t
      .http()
      .get(`/v1/registrations/${victim.registrationId}/notifications`)
      .set('Authorization', `Bearer ${victim.manageToken}`);
    expect(ledger.body.notifications[0].deliveries[0].attempts.map((a: { attemptNo: number }) => a.attemptNo)).toEqual([1, 2, 3]);

    clock.set(new Date('2026-11-27T18:00:01Z'));
    await drain();
    clock.advance(3 * 3_600_000);
    await drain();
    expect(fake.callsTo(victim.numbers[0])).toHaveLength(3);
    expect((await voiceDelivery(eventId)).repeat_until.getTime()).toBeLessThan(clock.now().getTime());
    clock.set(new Date('2026-11-26T18:00:00Z'));
  });

  // What a recording on a shared phone must never hold: the person, the event, the place, the PIN.
  const REVEALING = [
    'John',
    'Doe',
    'Harris',
    'HCJ',
    'RELEAS',
    'Releas',
    'releas',
    'LIBERTAD',
    'libertad',
    'custod',
    'Custod',
    'PIN',
    '911',
  ];
  const expectNeutral = (twiml: string, language: 'en-US' | 'es-US') => {
    for (const word of REVEALING) expect(twiml).not.toContain(word);
    expect(twiml).toContain(`<Say language="${language}">`);
    expect(twiml).toContain('Vigil');
  };

  it('#11.11 an answering machine hears only that Vigil has a message (English and Spanish); the call repeats on the unanswered cadence, and a person still hears the alert', async () => {
    clock.set(new Date('2026-11-26T18:00:00Z'));
    for (const [language, answeredBy, say] of [
      ['es', 'machine_start', 'es-US'],
      ['en', 'machine_end_beep', 'en-US'],
    ] as const) {
      const identifier = `VOICE-MACHINE-${language}`;
      const victim = await enrolVoice(identifier, ['voice'], language);
      const eventId = (await release(identifier)).body.results[0].eventId;
      await drain();
      const [call] = fake.callsTo(victim.numbers[0]);
      const toMachine = await signed(pathOf(call.params.Url), { CallSid: call.sid, AnsweredBy: answeredBy });
      expect(toMachine.status).toBe(200);
      expectNeutral(toMachine.text, say);
      expect(toMachine.text).toContain(language === 'es' ? 'correo' : 'email');
      expect(toMachine.text).toContain('<Hangup');
      expect(toMachine.text).not.toContain('<Gather');

      // The machine's recording is not the alert heard: the next call comes in 30 minutes, not 2 hours.
      const { id } = await voiceDelivery(eventId);
      const completed = { CallSid: call.sid, CallStatus: 'completed', CallDuration: '32', AnsweredBy: answeredBy };
      expect((await signed(`/v1/webhooks/twilio/status/${id}`, completed)).status).toBe(204);
      const after = await voiceDelivery(eventId);
      expect(after.status).toBe('sent');
      expect(after.due_at.getTime()).toBeLessThanOrEqual(clock.now().getTime() + 30 * 60_000);
      clock.advance(31 * 60_000);
      await drain();
      const calls = fake.callsTo(victim.numbers[0]);
      expect(calls).toHaveLength(2);

      const toPerson = await signed(pathOf(calls[1].params.Url), { CallSid: calls[1].sid, AnsweredBy: 'human' });
      expect(toPerson.text).toContain('<Gather');
      expect(toPerson.text).toContain(language === 'es' ? 'PUESTO EN LIBERTAD' : 'RELEASED');
      expect(toPerson.text).toContain('John Doe');
      clock.set(new Date('2026-11-26T18:00:00Z'));
    }
  });

  it('#11.11 an answer Twilio cannot tell apart (unknown) hears nothing about anyone until the PIN is entered; unconfirmed, it repeats on the unanswered cadence', async () => {
    clock.set(new Date('2026-11-26T18:00:00Z'));
    const victim = await enrolVoice('VOICE-UNKNOWN');
    const eventId = (await release('VOICE-UNKNOWN')).body.results[0].eventId;
    await drain();
    const [call] = fake.callsTo(victim.numbers[0]);
    const voicePath = pathOf(call.params.Url);
    const offer = await signed(voicePath, { CallSid: call.sid, AnsweredBy: 'unknown' });
    expect(offer.status).toBe(200);
    expect(offer.text).toContain('<Gather');
    expect(offer.text).toContain('numDigits="4"');
    expect(offer.text).toContain('hear=1');
    for (const word of REVEALING.filter((w) => w !== 'PIN')) expect(offer.text).not.toContain(word);

    // Silence, then the line hangs up: unconfirmed, called again in 30 minutes.
    const { id } = await voiceDelivery(eventId);
    const completed = { CallSid: call.sid, CallStatus: 'completed', CallDuration: '40', AnsweredBy: 'unknown' };
    expect((await signed(`/v1/webhooks/twilio/status/${id}`, completed)).status).toBe(204);
    expect((await voiceDelivery(eventId)).status).toBe('sent');
    clock.advance(31 * 60_000);
    await drain();
    const calls = fake.callsTo(victim.numbers[0]);
    expect(calls).toHaveLength(2);

    // The second time the person enters the PIN (after one wrong try) and then hears the alert.
    const second = pathOf(calls[1].params.Url);
    expect((await signed(second, { CallSid: calls[1].sid, AnsweredBy: 'unknown' })).text).toContain('hear=1');
    const wrong = await signed(`${second}/pin?try=1&hear=1`, { Digits: '1111' });
    expect(wrong.text).toContain('try=2&amp;hear=1');
    for (const word of ['John', 'LIBERTAD']) expect(wrong.text).not.toContain(word);
    const heard = await signed(`${second}/pin?try=2&hear=1`, { Digits: PIN });
    expect(heard.text).toContain('PUESTO EN LIBERTAD');
    expect(heard.text).toContain('John Doe');
    expect(heard.text).toContain('911');
    expect(heard.text).toContain('Gracias');
    expect(heard.text).not.toContain('<Gather');
    expect((await voiceDelivery(eventId)).status).toBe('confirmed');
    clock.set(new Date('2026-11-26T18:00:00Z'));
  });

  it('#11.11 an ordinary (not urgent) call answered by a machine fails as unanswered, with the reason on record', async () => {
    const victim = await enrolVoice('VOICE-MACHINE-ORDINARY', ['voice'], 'en');
    const res = await postEvents(
      t,
      source,
      event({ person: personWith('VOICE-MACHINE-ORDINARY'), type: 'RETURNED_TO_CUSTODY', occurredAt: '2026-11-26T17:55:00Z' }),
    );
    const eventId = res.body.results[0].eventId;
    await drain();
    const [call] = fake.callsTo(victim.numbers[0]);
    const { id, repeat_until } = await voiceDelivery(eventId);
    expect(repeat_until).toBeNull();
    const twiml = await signed(pathOf(call.params.Url), { CallSid: call.sid, AnsweredBy: 'machine_end_other' });
    expectNeutral(twiml.text, 'en-US');
    expect(twiml.text).not.toContain('call again');
    const completed = { CallSid: call.sid, CallStatus: 'completed', CallDuration: '20', AnsweredBy: 'machine_end_other' };
    expect((await signed(`/v1/webhooks/twilio/status/${id}`, completed)).status).toBe(204);
    const { rows } = await t.db.query(`SELECT status, last_error FROM delivery WHERE id = $1`, [id]);
    expect(rows[0]).toEqual({ status: 'failed', last_error: 'call_machine' });
  });

  it('#11.11 a verification call answered by a machine leaves no PIN prompt and nothing about custody', async () => {
    for (const [language, say] of [
      ['en', 'en-US'],
      ['es', 'es-US'],
    ] as const) {
      const personId = await bookPerson(t, source, `VOICE-VERIFY-MACHINE-${language}`);
      const number = `+1${++phone}`;
      const created = await register(t, { personId, language, pin: PIN, contacts: [{ channel: 'voice', address: number }] });
      expect(created.status).toBe(201);
      await drain();
      const [call] = fake.callsTo(number);
      const twiml = await signed(pathOf(call.params.Url), { CallSid: call.sid, AnsweredBy: 'machine_end_silence' });
      expect(twiml.status).toBe(200);
      expectNeutral(twiml.text, say);
      expect(twiml.text).toContain('<Hangup');
      expect(twiml.text).not.toContain('<Gather');
    }
  });

  it('SMS delivery reports move statuses forward only; repeats are harmless; forged ones are refused', async () => {
    const victim = await enrolVoice('SMS-CB', ['sms']);
    const res = await release('SMS-CB');
    await drain();
    const { rows } = await t.db.query(
      `SELECT d.id, d.provider_message_id FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.event_id = $1`,
      [res.body.results[0].eventId],
    );
    const { id, provider_message_id: sid } = rows[0];
    const path = `/v1/webhooks/twilio/status/${id}`;
    const statusOf = async () => (await t.db.query(`SELECT status FROM delivery WHERE id = $1`, [id])).rows[0].status;

    expect((await signed(path, { MessageSid: sid, MessageStatus: 'delivered' }, 'Zm9yZ2Vk')).status).toBe(401);
    expect(await statusOf()).toBe('sent');
    expect((await signed(path, { MessageSid: sid, MessageStatus: 'delivered' })).status).toBe(204);
    expect(await statusOf()).toBe('delivered');
    await signed(path, { MessageSid: sid, MessageStatus: 'sent' });
    await signed(path, { MessageSid: sid, MessageStatus: 'undelivered', ErrorCode: '30003' });
    await signed(path, { MessageSid: sid, MessageStatus: 'delivered' });
    expect(await statusOf()).toBe('delivered');
    await signed(path, { MessageSid: 'SMsomeoneelse', MessageStatus: 'failed' });
    expect(await statusOf()).toBe('delivered');
    const ledger = await t
      .http()
      .get(`/v1/registrations/${victim.registrationId}/notifications`)
      .set('Authorization', `Bearer ${victim.manageToken}`);
    expect(ledger.body.notifications[0].status).toBe('delivered');
  });

  it('an SMS the carrier could not deliver goes again for a transient reason, and fails for a permanent one', async () => {
    const victim = await enrolVoice('SMS-UNDELIVERED', ['sms']);
    const res = await release('SMS-UNDELIVERED');
    await drain();
    const delivery = async () =>
      (
        await t.db.query(
          `SELECT d.id, d.status, d.due_at, d.provider_message_id, d.last_error FROM delivery d JOIN notification n ON n.id = d.notification_id
           WHERE n.event_id = $1`,
          [res.body.results[0].eventId],
        )
      ).rows[0];
    const first = await delivery();
    const path = `/v1/webhooks/twilio/status/${first.id}`;
    expect(fake.messagesTo(victim.numbers[0])).toHaveLength(1);

    await signed(path, { MessageSid: first.provider_message_id, MessageStatus: 'undelivered', ErrorCode: '30003' });
    const queued = await delivery();
    expect(queued).toMatchObject({ status: 'pending', last_error: 'twilio_30003' });
    expect(queued.due_at.getTime()).toBeGreaterThanOrEqual(clock.now().getTime());
    // The same report again, or one for the old message after a resend, changes nothing.
    await signed(path, { MessageSid: first.provider_message_id, MessageStatus: 'undelivered', ErrorCode: '30003' });
    expect((await delivery()).due_at.getTime()).toBe(queued.due_at.getTime());

    clock.advance(3_600_000);
    await drain();
    expect(fake.messagesTo(victim.numbers[0])).toHaveLength(2);
    const second = await delivery();
    expect(second.status).toBe('sent');
    expect(second.provider_message_id).not.toBe(first.provider_message_id);

    await signed(path, { MessageSid: second.provider_message_id, MessageStatus: 'failed', ErrorCode: '30006' });
    expect(await delivery()).toMatchObject({ status: 'failed', last_error: 'twilio_30006' });
    clock.advance(3_600_000);
    await drain();
    expect(fake.messagesTo(victim.numbers[0])).toHaveLength(2);
    clock.set(new Date('2026-11-26T18:00:00Z'));
  });

  it('a report or a PIN that arrives while its batch is still being sent is kept, not lost or overwritten', async () => {
    const texted = await enrolVoice('SMS-EARLY', ['sms']);
    const called = await enrolVoice('VOICE-EARLY');
    const answered = await enrolVoice('VOICE-EARLY-ANSWERED');
    const smsEvent = (await release('SMS-EARLY')).body.results[0].eventId;
    const callEvent = (await release('VOICE-EARLY')).body.results[0].eventId;
    const answeredEvent = (await release('VOICE-EARLY-ANSWERED')).body.results[0].eventId;
    const deliveryOf = async (eventId: string) =>
      (
        await t.db.query(
          `SELECT d.id, d.status, d.provider_message_id FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.event_id = $1`,
          [eventId],
        )
      ).rows[0];
    const sms = await deliveryOf(smsEvent);
    const answeredCall = await deliveryOf(answeredEvent);

    fake.delayMs = 400;
    const draining = drain();
    try {
      // Wait (on the fake, not the clock) until both sends are in flight, then report and confirm meanwhile.
      const inFlight = () => [fake.messagesTo(texted.numbers[0]), fake.callsTo(called.numbers[0]), fake.callsTo(answered.numbers[0])];
      while (inFlight().some((requests) => requests.length === 0)) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const { sid } = fake.messagesTo(texted.numbers[0])[0];
      expect((await signed(`/v1/webhooks/twilio/status/${sms.id}`, { MessageSid: sid, MessageStatus: 'delivered' })).status).toBe(204);
      const voicePath = pathOf(fake.callsTo(called.numbers[0])[0].params.Url);
      expect((await signed(`${voicePath}/pin?try=1`, { Digits: PIN })).text).toContain('Gracias');
      const callSid = fake.callsTo(answered.numbers[0])[0].sid;
      const completed = { CallSid: callSid, CallStatus: 'completed', AnsweredBy: 'human', CallDuration: '40' };
      expect((await signed(`/v1/webhooks/twilio/status/${answeredCall.id}`, completed)).status).toBe(204);
      expect((await deliveryOf(smsEvent)).status).toBe('sending');
    } finally {
      await draining;
      fake.delayMs = 0;
    }
    expect(await deliveryOf(smsEvent)).toMatchObject({
      status: 'delivered',
      provider_message_id: fake.messagesTo(texted.numbers[0])[0].sid,
    });
    expect((await deliveryOf(callEvent)).status).toBe('confirmed');
    // Answered without the PIN: delivered, and the next call waits the longer, answered interval.
    const { rows } = await t.db.query(`SELECT status, due_at FROM delivery WHERE id = $1`, [answeredCall.id]);
    expect(rows[0].status).toBe('delivered');
    expect(rows[0].due_at.getTime()).toBeGreaterThanOrEqual(clock.now().getTime() + 119 * 60_000);
    expect(
      (await t.db.query(`SELECT count(*)::int AS n FROM provider_report WHERE delivery_id = ANY($1::uuid[])`, [[sms.id, answeredCall.id]]))
        .rows[0].n,
    ).toBe(0);
  });

  it('#11.2 an answer reported for a repeat call before its worker has recorded the call is kept, then applied: the call counts as answered', async () => {
    clock.set(new Date('2026-11-26T18:00:00Z'));
    const victim = await enrolVoice('VOICE-EARLY-REPEAT');
    const eventId = (await release('VOICE-EARLY-REPEAT')).body.results[0].eventId;
    await drain();
    expect(fake.callsTo(victim.numbers[0])).toHaveLength(1);
    const { id } = await voiceDelivery(eventId);

    // The repeat call is placed; Twilio's answer (with the call's sid) is held, so the worker has not recorded the sid yet.
    clock.advance(31 * 60_000);
    const dispatcher = t.app.get(DispatcherService);
    const answer = fake.hold();
    let repeating: Promise<void> | undefined;
    let sid: string;
    try {
      repeating = dispatcher.send(await dispatcher.claim(256));
      while (fake.callsTo(victim.numbers[0]).length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      sid = fake.callsTo(victim.numbers[0])[1].sid;
      const completed = { CallSid: sid, CallStatus: 'completed', AnsweredBy: 'human', CallDuration: '30' };
      expect((await signed(`/v1/webhooks/twilio/status/${id}`, completed)).status).toBe(204);
    } finally {
      answer();
    }
    await repeating;

    const { rows } = await t.db.query(`SELECT status, due_at, provider_message_id FROM delivery WHERE id = $1`, [id]);
    expect(rows[0]).toMatchObject({ status: 'delivered', provider_message_id: sid });
    // Answered without the PIN: the next call waits the answered interval, not the unanswered one.
    expect(rows[0].due_at.getTime()).toBeGreaterThanOrEqual(clock.now().getTime() + 119 * 60_000);
    clock.advance(31 * 60_000);
    await drain();
    expect(fake.callsTo(victim.numbers[0])).toHaveLength(2);
    expect((await t.db.query(`SELECT count(*)::int AS n FROM provider_report WHERE delivery_id = $1`, [id])).rows[0].n).toBe(0);
    clock.set(new Date('2026-11-26T18:00:00Z'));
  });

  it('a phone line verifies by entering the PIN in the verification call', async () => {
    const personId = await bookPerson(t, source, 'VOICE-VERIFY');
    const number = `+1${++phone}`;
    const created = await register(t, { personId, language: 'en', pin: PIN, contacts: [{ channel: 'voice', address: number }] });
    await drain();
    const [call] = fake.callsTo(number);
    const voicePath = pathOf(call.params.Url);
    const prompt = await signed(voicePath, { CallSid: 'CA2' });
    expect(prompt.text).toContain('enter your 4 digit PIN');
    await signed(`${voicePath}/pin?try=1`, { Digits: PIN });
    const view = await t
      .http()
      .get(`/v1/registrations/${created.body.registrationId}`)
      .set('Authorization', `Bearer ${created.body.manageToken}`);
    expect(view.body.contacts[0].verified).toBe(true);
    expect(view.body.status).toBe('active');
  });

  it('STOP, then an alert: the opted-out number gets no SMS', async () => {
    const victim = await enrolVoice('STOP-ALERT', ['sms']);
    const params = { From: victim.numbers[0], Body: 'STOP' };
    expect((await signed('/v1/webhooks/twilio/sms-inbound', params)).status).toBe(200);
    const res = await release('STOP-ALERT');
    expect(res.body.results[0].notificationsPlanned).toBe(1);
    await drain();
    expect(fake.messagesTo(victim.numbers[0])).toHaveLength(0);
  });

  it('an urgent alert nobody confirmed or received within 30 minutes escalates, once, to the enrolling specialist', async () => {
    clock.set(new Date('2026-11-26T18:00:00Z'));
    const victim = await enrolVoice('ESCALATE-1');
    await release('ESCALATE-1');
    await drain();
    const escalations = t.app.get(StaffAlertsService);
    clock.advance(29 * 60_000);
    expect(await escalations.escalate()).toBe(0);
    clock.advance(2 * 60_000);
    expect(await escalations.escalate()).toBeGreaterThanOrEqual(1);
    expect(await escalations.escalate()).toBe(0);
    await drain();
    const mails = smtp.to(specialistEmail);
    expect(mails.length).toBeGreaterThanOrEqual(1);
    expect(mails.some((m) => m.subject?.includes('escalation') && m.text?.includes(victim.registrationId))).toBe(true);
    for (const m of mails) for (const n of victim.numbers) expect(m.text).not.toContain(n);
    const ledger = await t
      .http()
      .get(`/v1/registrations/${victim.registrationId}/notifications`)
      .set('Authorization', `Bearer ${victim.manageToken}`);
    expect(ledger.body.notifications[0].escalated).toBe(true);
    clock.set(new Date('2026-11-26T18:00:00Z'));
  });

  it('escalation looks at each victim of an urgent event: an SMS delivered in time is not escalated, an unanswered call is', async () => {
    clock.set(new Date('2026-11-26T18:00:00Z'));
    const personId = await bookPerson(t, source, 'ESCALATE-2');
    const enrol = async (channel: 'voice' | 'sms') => {
      const res = await t
        .http()
        .post('/v1/enrollments')
        .set('Authorization', `Bearer ${specialist}`)
        .send({ personId, language: 'en', pin: PIN, contacts: [{ channel, address: `+1${++phone}` }] });
      expect(res.status).toBe(201);
      return res.body as { registrationId: string; manageToken: string };
    };
    const called = await enrol('voice');
    const texted = await enrol('sms');
    await release('ESCALATE-2');
    await drain();
    const { rows } = await t.db.query(
      `SELECT d.id, d.provider_message_id FROM delivery d JOIN contact c ON c.id = d.contact_id WHERE c.registration_id = $1`,
      [texted.registrationId],
    );
    const report = { MessageSid: rows[0].provider_message_id, MessageStatus: 'delivered' };
    expect((await signed(`/v1/webhooks/twilio/status/${rows[0].id}`, report)).status).toBe(204);

    clock.advance(31 * 60_000);
    const escalations = t.app.get(StaffAlertsService);
    expect(await escalations.escalate()).toBeGreaterThanOrEqual(1);
    expect(await escalations.escalate()).toBe(0);

    const escalated = async (victim: { registrationId: string; manageToken: string }) =>
      (await t.http().get(`/v1/registrations/${victim.registrationId}/notifications`).set('Authorization', `Bearer ${victim.manageToken}`))
        .body.notifications[0].escalated;
    expect(await escalated(called)).toBe(true);
    expect(await escalated(texted)).toBe(false);
    await drain();
    const mails = smtp.to(specialistEmail).map((m) => m.text ?? '');
    expect(mails.some((text) => text.includes(called.registrationId))).toBe(true);
    expect(mails.some((text) => text.includes(texted.registrationId))).toBe(false);
    clock.set(new Date('2026-11-26T18:00:00Z'));
  });

  it('a stale feed emails every admin once, and again on recovery', async () => {
    const feeds = t.app.get(FeedHealthService);
    const quiet = await createSource(t, { name: 'Quiet County JMS', expectedIntervalSeconds: 60 });
    void quiet;
    clock.advance(120_000);
    await feeds.check();
    await feeds.check();
    await drain();
    const stale = smtp.messages.filter((m) => m.subject === 'Vigil feed STALE: Quiet County JMS');
    expect(stale).toHaveLength(1);
    expect(String((Array.isArray(stale[0].to) ? stale[0].to[0] : stale[0].to)?.text)).toContain('admin@test.vigil');
    clock.set(new Date('2026-11-26T18:00:00Z'));
  });
});
