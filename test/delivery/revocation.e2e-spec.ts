import twilioSdk from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { RevocationsService } from '../../src/delivery/revocations.service.js';
import { FakeTwilio } from '../support/fake-twilio.js';
import { bookPerson } from '../support/registrations.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { createTestDatabase } from '../support/test-database.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Consent that ends while a worker holds a batch: the waiting deliveries are suppressed in the
 * database, but the batch was loaded before. One provider call at a time, each answered slowly,
 * keeps the batch in hand while the victim (or an admin) acts.
 */
describe('consent ending while a batch is in hand', () => {
  let t: TestApp;
  let twilio: FakeTwilio;
  /** Between the app and PostgreSQL, so a test can drop the LISTEN connection alone. */
  let proxy: TcpProxy;
  let source: TestSource;
  let specialist: string;
  let admin: string;
  let phone = 7135559000;

  beforeAll(async () => {
    twilio = new FakeTwilio();
    await twilio.start();
    twilio.delayMs = 400;
    const hop = await TcpProxy.before(await createTestDatabase());
    proxy = hop.proxy;
    t = await startTestApp({
      databaseUrl: hop.url,
      env: {
        TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
        TWILIO_AUTH_TOKEN: 'test-token',
        TWILIO_FROM_NUMBER: '+15005550006',
        TWILIO_API_BASE_URL: twilio.baseUrl,
        PUBLIC_BASE_URL: 'https://vigil.test',
        DISPATCH_CONCURRENCY: '1',
      },
    });
    source = await createSource(t);
    specialist = await t.staffToken('specialist');
    admin = await t.adminToken();
  });
  afterAll(async () => {
    await t.close();
    await twilio.stop();
    await proxy.stop();
  });

  /** Two victims of one person, each with one verified SMS contact (enrolled by a specialist). */
  async function twoVictims(identifier: string) {
    const personId = await bookPerson(t, source, identifier);
    const victims = [];
    for (let i = 0; i < 2; i++) {
      const sms = `+1${++phone}`;
      const res = await t
        .http()
        .post('/v1/enrollments')
        .set('Authorization', `Bearer ${specialist}`)
        .send({ personId, language: 'en', pin: '2468', contacts: [{ channel: 'sms', address: sms }] });
      expect(res.status).toBe(201);
      victims.push({ sms, registrationId: res.body.registrationId as string, manageToken: res.body.manageToken as string });
    }
    return { personId, victims };
  }

  /** Releases the person and starts sending; resolves once the first message is at the provider. */
  async function releaseAndStartSending(identifier: string) {
    const before = twilio.requests.length;
    const released = event({ person: personWith(identifier), type: 'RELEASED' });
    const res = await postEvents(t, source, released);
    expect(res.status).toBe(202);
    const sending = t.app.get(DispatcherService).drain();
    while (twilio.requests.length === before) await new Promise((resolve) => setTimeout(resolve, 10));
    return {
      eventId: res.body.results[0].eventId as string,
      sourceEventId: released.sourceEventId as string,
      sending,
      first: twilio.requests[before].params.To,
    };
  }

  /** A release whose batch is in hand (one SMS sent), then its CORRECTION, heard by the worker before that batch ends. */
  async function releaseThenCorrectMidBatch(identifier: string) {
    const heardBefore = t.app.get(RevocationsService).heard;
    const { eventId, sourceEventId, sending, first } = await releaseAndStartSending(identifier);
    const correction = await postEvents(
      t,
      source,
      event({ person: personWith(identifier), type: 'CORRECTION', details: { correctsSourceEventId: sourceEventId } }),
    );
    expect(correction.status).toBe(202);
    await heard(heardBefore + 1);
    await sending;
    return { eventId, first, correctionId: correction.body.results[0].eventId as string };
  }

  async function heard(count: number) {
    const revocations = t.app.get(RevocationsService);
    for (let i = 0; i < 200 && revocations.heard < count; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(revocations.heard).toBeGreaterThanOrEqual(count);
  }

  async function ledger(eventId: string) {
    const { rows } = await t.db.query(
      `SELECT r.id AS registration_id, d.status, array_agg(a.outcome ORDER BY a.attempt_no) AS outcomes
       FROM delivery d JOIN notification n ON n.id = d.notification_id JOIN registration r ON r.id = n.registration_id
       LEFT JOIN delivery_attempt a ON a.delivery_id = d.id WHERE n.event_id = $1 GROUP BY r.id, d.status`,
      [eventId],
    );
    return new Map(rows.map((row) => [row.registration_id as string, { status: row.status, outcomes: row.outcomes }]));
  }

  it('a registration stopped (DELETE) after its batch was loaded gets nothing; the ledger shows the attempt withdrawn', async () => {
    const { victims } = await twoVictims('REV-DELETE');
    const heardBefore = t.app.get(RevocationsService).heard;
    const { eventId, sending, first } = await releaseAndStartSending('REV-DELETE');
    const [sent, stopped] = first === victims[0].sms ? victims : [victims[1], victims[0]];
    const del = await t.http().delete(`/v1/registrations/${stopped.registrationId}`).set('Authorization', `Bearer ${stopped.manageToken}`);
    expect(del.status).toBe(204);
    await heard(heardBefore + 1);
    await sending;

    expect(twilio.messagesTo(sent.sms)).toHaveLength(1);
    expect(twilio.messagesTo(stopped.sms)).toHaveLength(0);
    const rows = await ledger(eventId);
    expect(rows.get(sent.registrationId)).toEqual({ status: 'sent', outcomes: ['accepted'] });
    expect(rows.get(stopped.registrationId)).toEqual({ status: 'suppressed', outcomes: ['withdrawn'] });
  });

  it('a person protected after the batch was loaded: nothing more goes out about them', async () => {
    const { personId, victims } = await twoVictims('REV-PROTECT');
    const heardBefore = t.app.get(RevocationsService).heard;
    const { eventId, sending, first } = await releaseAndStartSending('REV-PROTECT');
    const protect = await t
      .http()
      .put(`/v1/admin/people/${personId}/protection`)
      .set('Authorization', `Bearer ${admin}`)
      .send({ protected: true, reason: 'court order' });
    expect(protect.status).toBe(200);
    await heard(heardBefore + 1);
    await sending;

    const other = victims.find((v) => v.sms !== first)!;
    expect(twilio.messagesTo(other.sms)).toHaveLength(0);
    expect((await ledger(eventId)).get(other.registrationId)).toEqual({ status: 'suppressed', outcomes: ['withdrawn'] });
  });

  it('STOP from a phone after its batch was loaded: no more SMS to that number, and a batch loaded after START sends again', async () => {
    const { victims } = await twoVictims('REV-STOP');
    const heardBefore = t.app.get(RevocationsService).heard;
    const { eventId, sending, first } = await releaseAndStartSending('REV-STOP');
    const stopped = victims.find((v) => v.sms !== first)!;
    const inbound = (body: string) => {
      const params = { From: stopped.sms, Body: body };
      return t
        .http()
        .post('/v1/webhooks/twilio/sms-inbound')
        .type('form')
        .set(
          'X-Twilio-Signature',
          twilioSdk.getExpectedTwilioSignature('test-token', 'https://vigil.test/v1/webhooks/twilio/sms-inbound', params),
        )
        .send(params);
    };
    expect((await inbound('STOP')).status).toBe(200);
    await heard(heardBefore + 1);
    await sending;
    expect(twilio.messagesTo(stopped.sms)).toHaveLength(0);
    expect((await ledger(eventId)).get(stopped.registrationId)).toEqual({ status: 'suppressed', outcomes: ['withdrawn'] });

    // START again: the revocation heard earlier concerns only batches loaded before it.
    expect((await inbound('START')).status).toBe(200);
    const again = await postEvents(t, source, event({ person: personWith('REV-STOP'), type: 'ESCAPED' }));
    expect(again.status).toBe(202);
    await t.app.get(DispatcherService).drain();
    expect(twilio.messagesTo(stopped.sms)).toHaveLength(1);
  });

  it('#11.2 a correction heard while the retracted event’s batch is in hand: what is still to go out of it is withdrawn', async () => {
    const { victims } = await twoVictims('REV-CORRECTION');
    const { eventId, first } = await releaseThenCorrectMidBatch('REV-CORRECTION');

    const other = victims.find((v) => v.sms !== first)!;
    const alerts = (sms: string) => twilio.messagesTo(sms).filter((m) => !m.params.Body.includes('CORRECTION'));
    expect(alerts(first)).toHaveLength(1);
    expect(alerts(other.sms)).toHaveLength(0);
    expect((await ledger(eventId)).get(other.registrationId)).toEqual({ status: 'suppressed', outcomes: ['withdrawn'] });
    await t.app.get(DispatcherService).drain();
    expect(twilio.messagesTo(first).map((m) => m.params.Body.includes('CORRECTION'))).toEqual([false, true]);
    expect(alerts(other.sms)).toHaveLength(0);
  });

  it('#11.2 a correction never reaches a contact whose alert was withdrawn, and still reaches the one whose alert went out', async () => {
    const { victims } = await twoVictims('REV-OWED');
    // Both alerts' attempts are written (outcome not yet known) when the correction is planned.
    const { eventId, first, correctionId } = await releaseThenCorrectMidBatch('REV-OWED');
    await t.app.get(DispatcherService).drain();

    const other = victims.find((v) => v.sms !== first)!;
    expect((await ledger(eventId)).get(other.registrationId)).toEqual({ status: 'suppressed', outcomes: ['withdrawn'] });
    expect(twilio.messagesTo(first).map((m) => m.params.Body.includes('CORRECTION'))).toEqual([false, true]);
    expect(twilio.messagesTo(other.sms)).toHaveLength(0);
    const corrections = await ledger(correctionId);
    // Planned while the alert's outcome was unknown, refused when it came to be sent: no attempt at all.
    expect(corrections.get(other.registrationId)).toEqual({ status: 'suppressed', outcomes: [null] });
  });

  it('#11.2 a correction never reaches a contact whose alert was withdrawn, even when claimed while that alert’s batch is still in hand', async () => {
    const { victims } = await twoVictims('REV-OWED-RACE');
    const dispatcher = t.app.get(DispatcherService);
    const heardBefore = t.app.get(RevocationsService).heard;
    const wrong = event({ person: personWith('REV-OWED-RACE'), type: 'RELEASED' });
    const res = await postEvents(t, source, wrong);
    const eventId = res.body.results[0].eventId as string;
    const before = twilio.requests.length;
    const answer = twilio.hold();
    let alerting: Promise<void>;
    let first: string;
    let correctionId: string;
    try {
      alerting = dispatcher.send(await dispatcher.claim(256));
      while (twilio.requests.length === before) await new Promise((resolve) => setTimeout(resolve, 10));
      first = twilio.requests[before].params.To;
      const correction = await postEvents(
        t,
        source,
        event({ person: personWith('REV-OWED-RACE'), type: 'CORRECTION', details: { correctsSourceEventId: wrong.sourceEventId } }),
      );
      expect(correction.body.results[0].notificationsPlanned).toBe(2);
      correctionId = correction.body.results[0].eventId as string;
      await heard(heardBefore + 1);
      // Another batch (another worker, or this one's next) takes the corrections while the alerts are in hand:
      // neither alert's fate is known yet, so neither correction goes out now; they wait for it.
      const correcting = dispatcher.send(await dispatcher.claim(256));
      await Promise.race([correcting, new Promise((resolve) => setTimeout(resolve, 2_000))]);
      expect(twilio.requests.length).toBe(before + 1);
      expect(await ledger(correctionId)).toEqual(new Map(victims.map((v) => [v.registrationId, { status: 'pending', outcomes: [null] }])));
    } finally {
      answer();
    }
    await alerting;

    const other = victims.find((v) => v.sms !== first)!;
    expect((await ledger(eventId)).get(other.registrationId)).toEqual({ status: 'suppressed', outcomes: ['withdrawn'] });
    expect(twilio.messagesTo(first)).toHaveLength(1);
    // Asked again shortly (real time in this file): the contact whose alert went out is corrected, the other is not.
    for (let i = 0; i < 500 && twilio.messagesTo(first).length < 2; i++) {
      await dispatcher.drain();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(twilio.messagesTo(first).map((m) => m.params.Body.includes('CORRECTION'))).toEqual([false, true]);
    expect(twilio.messagesTo(other.sms)).toHaveLength(0);
    expect((await ledger(correctionId)).get(other.registrationId)).toEqual({ status: 'suppressed', outcomes: [null] });
  });

  it('#11.3 LISTEN reconnect: a registration stopped while the LISTEN connection was down gets nothing more from a batch in hand', async () => {
    const { victims } = await twoVictims('REV-RECONNECT');
    const revocations = t.app.get(RevocationsService);
    const heardBefore = revocations.heard;
    const recheckedBefore = revocations.rechecked;
    const answer = twilio.hold();
    let sending: Promise<number>;
    let eventId: string;
    let sent: (typeof victims)[number];
    let stopped: (typeof victims)[number];
    try {
      let first: string;
      ({ eventId, sending, first } = await releaseAndStartSending('REV-RECONNECT'));
      [sent, stopped] = first === victims[0].sms ? victims : [victims[1], victims[0]];
      // The worker's LISTEN connection drops (and cannot come back yet); the victim stops alerts meanwhile.
      proxy.block('LISTEN vigil_revoked');
      const del = await t
        .http()
        .delete(`/v1/registrations/${stopped.registrationId}`)
        .set('Authorization', `Bearer ${stopped.manageToken}`);
      expect(del.status).toBe(204);
      expect(revocations.heard).toBe(heardBefore);
      proxy.unblock('LISTEN vigil_revoked');
      // The listener comes back by itself and checks the batches in hand against the database.
      for (let i = 0; i < 500 && !(revocations.rechecked > recheckedBefore); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(revocations.rechecked).toBeGreaterThan(recheckedBefore);
    } finally {
      answer();
    }
    await sending;

    expect(twilio.messagesTo(sent.sms)).toHaveLength(1);
    expect(twilio.messagesTo(stopped.sms)).toHaveLength(0);
    const rows = await ledger(eventId);
    expect(rows.get(sent.registrationId)).toEqual({ status: 'sent', outcomes: ['accepted'] });
    expect(rows.get(stopped.registrationId)).toEqual({ status: 'suppressed', outcomes: ['withdrawn'] });
  });
});
