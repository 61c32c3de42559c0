import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryRepository } from '../../src/database/delivery.repository.js';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { StaffAlertsService } from '../../src/delivery/staff-alerts.service.js';
import { custodyEventSchema } from '../../src/ingestion/custody-event.schema.js';
import { CustodyEventsService } from '../../src/ingestion/custody-events.service.js';
import type { AuthenticatedSource } from '../../src/sources/sources.service.js';
import { FakeTwilio } from '../support/fake-twilio.js';
import { lockWaiters } from '../support/lock-waiters.js';
import { ManualClock } from '../support/manual-clock.js';
import { bookPerson, enrolEveryChannel } from '../support/registrations.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const NOON = new Date('2026-11-26T18:00:00Z');
/** The advisory lock a test holds to keep a correction's transaction open between its planning and its commit. */
const PLANNING_PAUSE = 7319001;

/** How many backends of this database wait on a lock now. */
async function waitingOnLocks(db: pg.Pool): Promise<number> {
  const { rows } = await db.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`,
  );
  return rows[0].n as number;
}

/**
 * A CORRECTION retracts an event: nothing more goes out about it, its waiting deliveries end
 * suppressed, its repeating calls and its escalation stop, and a correction goes to each contact
 * that was actually sent something about it (and so to nobody when nothing was).
 */
describe('#11.2 corrections', () => {
  let t: TestApp;
  let smtp: SmtpSink;
  let twilio: FakeTwilio;
  let source: TestSource;
  let specialist: string;
  let specialistEmail: string;
  const clock = new ManualClock(NOON);
  let phone = 7135551300;

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
        TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
        TWILIO_AUTH_TOKEN: 'test-token',
        TWILIO_FROM_NUMBER: '+15005550006',
        TWILIO_API_BASE_URL: twilio.baseUrl,
        PUBLIC_BASE_URL: 'https://vigil.test',
      },
    });
    source = await createSource(t);
    specialistEmail = 'specialist.corrections@test.vigil';
    specialist = await t.staffToken('specialist', specialistEmail);
  });
  afterAll(async () => {
    await t.close();
    await Promise.all([smtp.stop(), twilio.stop()]);
  });

  const drain = () => t.app.get(DispatcherService).drain();

  /** A registration (enrolled by the specialist, contacts attested) with an email, an SMS and a voice contact. */
  async function enrol(personId: string, label: string, extra: Record<string, unknown> = {}) {
    const contacts = { email: `${label.toLowerCase()}@example.org`, sms: `+1${++phone}`, voice: `+1${++phone}` };
    const { registrationId } = await enrolEveryChannel(t, specialist, personId, contacts, extra);
    return { registrationId, contacts };
  }

  /** Everything the providers were handed for these contacts: emails, texts and calls. */
  const received = (contacts: { email: string; sms: string; voice: string }) => ({
    email: smtp.to(contacts.email).length,
    sms: twilio.messagesTo(contacts.sms).length,
    voice: twilio.callsTo(contacts.voice).length,
  });

  /** Per registration and channel, the status of each delivery about this event. */
  async function deliveries(eventId: string): Promise<Record<string, string>> {
    const { rows } = await t.db.query(
      `SELECT n.registration_id, d.channel, d.status FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.event_id = $1`,
      [eventId],
    );
    return Object.fromEntries(rows.map((r) => [`${r.registration_id}:${r.channel}`, r.status]));
  }

  const correctionOf = (identifier: string, target: Record<string, unknown>) =>
    event({ person: personWith(identifier), type: 'CORRECTION', details: { correctsSourceEventId: target.sourceEventId } });

  it('#11.2 correction in the same batch as its event: neither the false alert nor a correction reaches anyone', async () => {
    clock.set(NOON);
    const personId = await bookPerson(t, source, 'CORR-BATCH');
    const victim = await enrol(personId, 'corr-batch');
    const wrong = event({ person: personWith('CORR-BATCH'), type: 'RELEASED' });
    const res = await postEvents(t, source, { events: [wrong, correctionOf('CORR-BATCH', wrong)] });
    expect(res.status).toBe(202);
    expect(res.body.results.map((r: { notificationsPlanned: number }) => r.notificationsPlanned)).toEqual([0, 0]);
    await drain();
    expect(received(victim.contacts)).toEqual({ email: 0, sms: 0, voice: 0 });

    clock.advance(31 * 60_000);
    await t.app.get(StaffAlertsService).escalate();
    await drain();
    expect(smtp.to(specialistEmail).filter((m) => m.text?.includes(victim.registrationId))).toHaveLength(0);
    const { rows } = await t.db.query(`SELECT custody_status FROM person WHERE id = $1`, [personId]);
    expect(rows[0].custody_status).toBe('IN_CUSTODY');
    clock.set(NOON);
  });

  it('#11.2 correction in grouped requests (one transaction with its event): nobody is alerted or corrected', async () => {
    clock.set(NOON);
    const personId = await bookPerson(t, source, 'CORR-GROUP');
    const victim = await enrol(personId, 'corr-group');
    const authenticated: AuthenticatedSource = {
      id: source.sourceId,
      name: 'test',
      facilityCodes: null,
      signingRequired: false,
      signingSecret: source.signingSecret,
    };
    const ingest = (raw: Record<string, unknown>) =>
      t.app.get(CustodyEventsService).ingest({ source: authenticated }, [{ dto: custodyEventSchema.parse(raw), raw, path: '' }]);
    const wrong = event({ person: personWith('CORR-GROUP'), type: 'ESCAPED' });
    // Two transactions of this source are running, so the next two requests wait and commit together.
    const results = await Promise.all([ingest(event()), ingest(event()), ingest(wrong), ingest(correctionOf('CORR-GROUP', wrong))]);
    expect(results.map(([r]) => r.status)).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
    expect(results.slice(2).map(([r]) => r.notificationsPlanned)).toEqual([0, 0]);
    await drain();
    expect(received(victim.contacts)).toEqual({ email: 0, sms: 0, voice: 0 });
  });

  it('#11.2 correction that arrives later: held and retrying deliveries end suppressed; the correction goes only to contacts that were sent the alert', async () => {
    clock.set(NOON);
    const personId = await bookPerson(t, source, 'CORR-LATER');
    const awake = await enrol(personId, 'corr-later-awake');
    // 11:00-13:00 in Chicago: it is noon there, so this registrant's non-urgent alerts are held.
    const asleep = await enrol(personId, 'corr-later-asleep', {
      quietHours: { start: '11:00', end: '13:00', timeZone: 'America/Chicago' },
    });
    const wrong = event({
      person: personWith('CORR-LATER'),
      type: 'TRANSFERRED',
      toFacility: { code: 'STATE-PEN', name: 'State Penitentiary' },
    });
    const res = await postEvents(t, source, wrong);
    expect(res.body.results[0].notificationsPlanned).toBe(2);
    const eventId = res.body.results[0].eventId as string;
    twilio.failNext('message', 503, 20003, 1);
    await drain();
    const key = (victim: { registrationId: string }, channel: string) => `${victim.registrationId}:${channel}`;
    expect(await deliveries(eventId)).toEqual({
      [key(awake, 'email')]: 'sent',
      [key(awake, 'sms')]: 'pending',
      [key(awake, 'voice')]: 'sent',
      [key(asleep, 'email')]: 'held',
      [key(asleep, 'sms')]: 'held',
      [key(asleep, 'voice')]: 'held',
    });
    const awakeBefore = received(awake.contacts);

    const correction = await postEvents(t, source, correctionOf('CORR-LATER', wrong));
    expect(correction.status).toBe(202);
    expect(correction.body.results[0].notificationsPlanned).toBe(1);
    expect(await deliveries(eventId)).toEqual({
      [key(awake, 'email')]: 'sent',
      [key(awake, 'sms')]: 'suppressed',
      [key(awake, 'voice')]: 'sent',
      [key(asleep, 'email')]: 'suppressed',
      [key(asleep, 'sms')]: 'suppressed',
      [key(asleep, 'voice')]: 'suppressed',
    });
    expect(await deliveries(correction.body.results[0].eventId)).toEqual({
      [key(awake, 'email')]: 'pending',
      [key(awake, 'voice')]: 'pending',
    });
    await drain();
    expect(received(awake.contacts)).toEqual({ email: awakeBefore.email + 1, sms: awakeBefore.sms, voice: awakeBefore.voice + 1 });
    expect(smtp.to(awake.contacts.email).at(-1)?.text).toContain('CORRECTION');

    // Quiet hours over, retries due: nothing more goes out about the retracted event.
    clock.set(new Date('2026-11-26T20:00:00Z'));
    await drain();
    expect(received(awake.contacts)).toEqual({ email: awakeBefore.email + 1, sms: awakeBefore.sms, voice: awakeBefore.voice + 1 });
    expect(received(asleep.contacts)).toEqual({ email: 0, sms: 0, voice: 0 });
    clock.set(NOON);
  });

  it('#11.2 a correction planned while a batch holding the alert has not written its attempts yet: whoever gets the alert gets the correction', async () => {
    clock.set(NOON);
    const personId = await bookPerson(t, source, 'CORR-WINDOW');
    const awake = await enrol(personId, 'corr-window-awake');
    // Noon in Chicago is inside these quiet hours: this registrant's alert waits until 13:00 there.
    const asleep = await enrol(personId, 'corr-window-asleep', {
      quietHours: { start: '11:00', end: '13:00', timeZone: 'America/Chicago' },
    });
    const wrong = event({
      person: personWith('CORR-WINDOW'),
      type: 'TRANSFERRED',
      toFacility: { code: 'STATE-PEN', name: 'State Penitentiary' },
    });
    const eventId = (await postEvents(t, source, wrong)).body.results[0].eventId as string;
    await drain();
    expect(received(awake.contacts)).toEqual({ email: 1, sms: 1, voice: 1 });
    clock.set(new Date('2026-11-26T18:59:00Z'));
    await drain();

    // The quiet hours end: a worker claims the held alerts.
    clock.set(new Date('2026-11-26T19:00:01Z'));
    const dispatcher = t.app.get(DispatcherService);
    const batch = await dispatcher.claim(256);
    expect(batch.ids).toHaveLength(3);

    // The correction's transaction is held right after its planning (which corrects whoever it then sees was sent
    // something) and before its commit, the moment any worker could hear it: the widest such window.
    const holder = await t.db.connect();
    await holder.query(`SELECT pg_advisory_lock(${PLANNING_PAUSE})`);
    await holder.query(`
      CREATE FUNCTION pause_correction_planning() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_advisory_xact_lock_shared(${PLANNING_PAUSE}); RETURN NULL; END $$`);
    await holder.query(`
      CREATE TRIGGER pause_correction_planning AFTER INSERT ON notification
      FOR EACH ROW WHEN (NEW.kind = 'correction') EXECUTE FUNCTION pause_correction_planning()`);
    let correction: Promise<{ status: number }> | undefined;
    let sending: Promise<void> | undefined;
    try {
      correction = Promise.resolve(postEvents(t, source, correctionOf('CORR-WINDOW', wrong)));
      await lockWaiters(t.db, 1);
      // The batch goes on: either it sends its alerts now, or it waits for the correction to be decided.
      let settled = false;
      sending = dispatcher.send(batch).finally(() => (settled = true));
      while (!settled && (await waitingOnLocks(t.db)) < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    } finally {
      await holder.query(`SELECT pg_advisory_unlock(${PLANNING_PAUSE})`);
      await holder.query(`DROP TRIGGER pause_correction_planning ON notification`);
      await holder.query(`DROP FUNCTION pause_correction_planning()`);
      holder.release();
    }
    await sending;
    expect((await correction).status).toBe(202);
    await drain();
    clock.advance(2_000);
    await drain();

    // Each contact got the false alert and its correction, or neither.
    expect(received(awake.contacts)).toEqual({ email: 2, sms: 2, voice: 2 });
    expect(smtp.to(awake.contacts.email).at(-1)?.text).toContain('CORRECTION');
    expect(received(asleep.contacts)).toEqual({ email: 0, sms: 0, voice: 0 });
    const key = (channel: string) => `${asleep.registrationId}:${channel}`;
    expect(await deliveries(eventId)).toMatchObject({
      [key('email')]: 'suppressed',
      [key('sms')]: 'suppressed',
      [key('voice')]: 'suppressed',
    });
    clock.set(NOON);
  });

  it('#11.2 correction of a voice alert mid-repeat: the repeat calls stop and the alert does not escalate', async () => {
    clock.set(NOON);
    const personId = await bookPerson(t, source, 'CORR-VOICE');
    const victim = await enrol(personId, 'corr-voice');
    const wrong = event({ person: personWith('CORR-VOICE'), type: 'RELEASED' });
    const res = await postEvents(t, source, wrong);
    const eventId = res.body.results[0].eventId as string;
    await drain();
    expect(received(victim.contacts)).toEqual({ email: 1, sms: 1, voice: 1 });
    clock.advance(31 * 60_000);
    await drain();
    expect(twilio.callsTo(victim.contacts.voice)).toHaveLength(2);

    clock.advance(10 * 60_000);
    const correction = await postEvents(t, source, correctionOf('CORR-VOICE', wrong));
    expect(correction.body.results[0].notificationsPlanned).toBe(1);
    await drain();
    // The correction, once on each channel, and no further alert call.
    expect(received(victim.contacts)).toEqual({ email: 2, sms: 2, voice: 3 });
    const { rows } = await t.db.query(
      `SELECT d.repeat_until FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.event_id = $1 AND d.channel = 'voice'`,
      [eventId],
    );
    expect(rows[0].repeat_until).toBeNull();
    clock.advance(31 * 60_000);
    await drain();
    clock.advance(2 * 3_600_000);
    await drain();
    expect(received(victim.contacts)).toEqual({ email: 2, sms: 2, voice: 3 });

    await t.app.get(StaffAlertsService).escalate();
    await drain();
    const escalated = await t.db.query(`SELECT id, escalated_at FROM notification WHERE event_id = $1`, [eventId]);
    expect(escalated.rows).toEqual([{ id: expect.any(String), escalated_at: null }]);
    // (The correction itself escalates, as a correction: see the test on its wording.)
    expect(smtp.to(specialistEmail).filter((m) => m.text?.includes(escalated.rows[0].id))).toHaveLength(0);
    clock.set(NOON);
  });

  it('#11.2 the correction of an urgent alert that nobody received in time escalates to staff as a correction, never as an unconfirmed alert', async () => {
    clock.set(NOON);
    const personId = await bookPerson(t, source, 'CORR-ESC-WORDS');
    const victim = await enrol(personId, 'corr-esc-words');
    const wrong = event({ person: personWith('CORR-ESC-WORDS'), type: 'RELEASED', occurredAt: '2026-11-26T17:40:00Z' });
    await postEvents(t, source, wrong);
    await drain();
    const correction = await postEvents(t, source, correctionOf('CORR-ESC-WORDS', wrong));
    await drain();
    expect(received(victim.contacts)).toEqual({ email: 2, sms: 2, voice: 2 });

    clock.advance(31 * 60_000);
    expect(await t.app.get(StaffAlertsService).escalate()).toBeGreaterThanOrEqual(1);
    await drain();
    const { rows } = await t.db.query(`SELECT id, escalated_at FROM notification WHERE event_id = $1`, [
      correction.body.results[0].eventId,
    ]);
    expect(rows[0].escalated_at).not.toBeNull();
    const mails = smtp.to(specialistEmail).filter((m) => m.text?.includes(rows[0].id));
    expect(mails).toHaveLength(1);
    expect(mails[0].subject).toBe('Vigil escalation: correction not delivered');
    // About the retracted release, named as such: never "CORRECTION for …" under an unconfirmed-alert heading.
    expect(mails[0].text).toContain('The RELEASED alert for');
    expect(mails[0].text).toContain('2026-11-26T17:40:00');
    expect(mails[0].text).toContain('sent in error');
    expect(mails[0].text).not.toMatch(/urgent alert not confirmed|CORRECTION for/);
    clock.set(NOON);
  });

  it('#11.2 a correction claimed while the alert it corrects is still at the provider waits for that alert, then reaches the contact', async () => {
    clock.set(NOON);
    const personId = await bookPerson(t, source, 'CORR-IN-HAND');
    const victim = await enrol(personId, 'corr-in-hand');
    const wrong = event({ person: personWith('CORR-IN-HAND'), type: 'RELEASED' });
    expect((await postEvents(t, source, wrong)).body.results[0].notificationsPlanned).toBe(1);
    const dispatcher = t.app.get(DispatcherService);
    const before = twilio.requests.length;
    const answer = twilio.hold();
    let alerting: Promise<void>;
    try {
      alerting = dispatcher.send(await dispatcher.claim(256));
      while (twilio.requests.length < before + 2) await new Promise((resolve) => setTimeout(resolve, 10));
      const correction = await postEvents(t, source, correctionOf('CORR-IN-HAND', wrong));
      expect(correction.body.results[0].notificationsPlanned).toBe(1);
      // No alert of the batch has its outcome recorded yet: the corrections wait rather than guess.
      await dispatcher.send(await dispatcher.claim(256));
      expect(twilio.requests.length).toBe(before + 2);
    } finally {
      answer();
    }
    await alerting;
    expect(received(victim.contacts)).toEqual({ email: 1, sms: 1, voice: 1 });
    await drain();
    expect(received(victim.contacts)).toEqual({ email: 1, sms: 1, voice: 1 });

    // Asked again shortly: the alert's batch is done, each alert was accepted, so each contact is corrected.
    clock.advance(2_000);
    await drain();
    expect(received(victim.contacts)).toEqual({ email: 2, sms: 2, voice: 2 });
    expect(smtp.to(victim.contacts.email).at(-1)?.text).toContain('CORRECTION');
    clock.set(NOON);
  });

  it('#11.2 an alert attempt a dead worker left unfinished makes no correction owed once its lease has run out', async () => {
    clock.set(NOON);
    const personId = await bookPerson(t, source, 'CORR-DEAD');
    const victim = await enrol(personId, 'corr-dead');
    const wrong = event({ person: personWith('CORR-DEAD'), type: 'RELEASED' });
    const eventId = (await postEvents(t, source, wrong)).body.results[0].eventId as string;
    // A worker claims the alerts, writes their attempts (ledger first) and dies before recording any outcome.
    const batch = await t.app.get(DispatcherService).claim(256);
    const started = await t.app.get(DeliveryRepository).startAttempts(
      batch.lease,
      batch.ids.map((deliveryId) => ({ deliveryId, attemptNo: 1, provider: 'test', prevHash: null })),
      NOON,
    );
    expect(started.started.size).toBe(3);
    const correction = await postEvents(t, source, correctionOf('CORR-DEAD', wrong));
    expect(correction.body.results[0].notificationsPlanned).toBe(1);
    await drain();
    expect(Object.values(await deliveries(correction.body.results[0].eventId))).toEqual(['pending', 'pending', 'pending']);

    // The lease runs out: another worker takes the alerts and suppresses them (retracted); once none is in hand, the
    // unfinished attempts no longer count and the corrections are suppressed too.
    clock.advance(61_000);
    await drain();
    clock.advance(2_000);
    await drain();
    expect(received(victim.contacts)).toEqual({ email: 0, sms: 0, voice: 0 });
    expect(Object.values(await deliveries(eventId))).toEqual(['suppressed', 'suppressed', 'suppressed']);
    expect(Object.values(await deliveries(correction.body.results[0].eventId))).toEqual(['suppressed', 'suppressed', 'suppressed']);

    // A correction owed to nobody in the end is nothing to escalate either.
    clock.advance(31 * 60_000);
    await t.app.get(StaffAlertsService).escalate();
    await drain();
    const corrections = await t.db.query(`SELECT id, escalated_at FROM notification WHERE event_id = $1`, [
      correction.body.results[0].eventId,
    ]);
    expect(corrections.rows).toEqual([{ id: expect.any(String), escalated_at: null }]);
    expect(smtp.to(specialistEmail).filter((m) => m.text?.includes(corrections.rows[0].id))).toHaveLength(0);
    clock.set(NOON);
  });

  it('#11.2 correction that arrives before its event (separate requests): the event, when it comes, alerts nobody and moves no status', async () => {
    clock.set(NOON);
    const personId = await bookPerson(t, source, 'CORR-EARLY');
    const victim = await enrol(personId, 'corr-early');
    const wrong = event({ person: personWith('CORR-EARLY'), type: 'RELEASED' });
    const correction = await postEvents(t, source, correctionOf('CORR-EARLY', wrong));
    expect(correction.status).toBe(202);
    expect(correction.body.results[0]).toMatchObject({ status: 'accepted', notificationsPlanned: 0 });
    const late = await postEvents(t, source, wrong);
    expect(late.status).toBe(202);
    expect(late.body.results[0]).toMatchObject({ status: 'accepted', notificationsPlanned: 0 });
    await drain();
    expect(received(victim.contacts)).toEqual({ email: 0, sms: 0, voice: 0 });
    const { rows } = await t.db.query(
      `SELECT e.retracted_by_event_id, c.corrects_event_id, p.custody_status
       FROM custody_event e JOIN custody_event c ON c.id = $2 JOIN person p ON p.id = e.person_id WHERE e.id = $1`,
      [late.body.results[0].eventId, correction.body.results[0].eventId],
    );
    expect(rows[0]).toEqual({
      retracted_by_event_id: correction.body.results[0].eventId,
      corrects_event_id: late.body.results[0].eventId,
      custody_status: 'IN_CUSTODY',
    });
    // A replay of the event is still a duplicate, and still alerts nobody.
    expect((await postEvents(t, source, wrong)).body.results[0].status).toBe('duplicate');
  });

  it('#11.2 an event and its correction sent at once in separate requests: in either order nobody is alerted', async () => {
    clock.set(NOON);
    const personId = await bookPerson(t, source, 'CORR-RACE');
    const victim = await enrol(personId, 'corr-race');
    for (let round = 0; round < 5; round++) {
      const wrong = event({ person: personWith('CORR-RACE'), type: 'ESCAPED' });
      const [correction, alert] = await Promise.all([
        postEvents(t, source, correctionOf('CORR-RACE', wrong)),
        postEvents(t, source, wrong),
      ]);
      expect([correction.status, alert.status]).toEqual([202, 202]);
    }
    await drain();
    expect(received(victim.contacts)).toEqual({ email: 0, sms: 0, voice: 0 });
  });

  it('#11.2 correction after the alert escalated: the escalation not yet sent to staff is not sent', async () => {
    clock.set(NOON);
    const personId = await bookPerson(t, source, 'CORR-ESCALATED');
    const victim = await enrol(personId, 'corr-escalated');
    const wrong = event({ person: personWith('CORR-ESCALATED'), type: 'RELEASED' });
    const eventId = (await postEvents(t, source, wrong)).body.results[0].eventId as string;
    await drain();
    clock.advance(31 * 60_000);
    expect(await t.app.get(StaffAlertsService).escalate()).toBeGreaterThanOrEqual(1);
    const { rows } = await t.db.query(`SELECT id FROM notification WHERE event_id = $1`, [eventId]);
    const mentions = () => smtp.to(specialistEmail).filter((m) => m.text?.includes(rows[0].id)).length;
    expect(mentions()).toBe(0);

    expect((await postEvents(t, source, correctionOf('CORR-ESCALATED', wrong))).status).toBe(202);
    await drain();
    expect(mentions()).toBe(0);
    expect(smtp.to(victim.contacts.email).at(-1)?.text).toContain('CORRECTION');
    clock.set(NOON);
  });
});
