import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { FakeTwilio } from '../support/fake-twilio.js';
import { ManualClock } from '../support/manual-clock.js';
import { bookPerson } from '../support/registrations.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase } from '../support/test-database.js';

/** Waits until `count` other sessions of this database wait on a lock (the race is then set up). */
async function blockedSessions(db: pg.Pool, count: number, what = ''): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE $1`,
      [`%${what}%`],
    );
    if (rows[0].n >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${count} sessions never waited on ${what}`);
}

/** Races between workers and between staff: each forced with an open transaction of the test's own. */
describe('concurrent resends and lost leases', () => {
  let a: TestApp;
  let b: TestApp;
  let twilio: FakeTwilio;
  let source: TestSource;
  let specialist: string;
  const clock = new ManualClock(new Date('2026-11-26T18:00:00Z'));
  let phone = 7135557000;

  beforeAll(async () => {
    twilio = new FakeTwilio();
    await twilio.start();
    const env = {
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
      TWILIO_AUTH_TOKEN: 'test-token',
      TWILIO_FROM_NUMBER: '+15005550006',
      TWILIO_API_BASE_URL: twilio.baseUrl,
      PUBLIC_BASE_URL: 'https://vigil.test',
      DELIVERY_LEASE_SECONDS: '60',
      PUBLIC_RATE_LIMIT_PER_MINUTE: '10000',
    };
    const databaseUrl = await createTestDatabase();
    a = await startTestApp({ clock, env, databaseUrl });
    // A second worker on the same database, with the same key and clock.
    b = await startTestApp({ clock, env, databaseUrl });
    source = await createSource(a);
    specialist = await a.staffToken('specialist');
  });
  afterAll(async () => {
    await b.close();
    await a.close();
    await twilio.stop();
  });

  async function enrolSms(identifier: string, victims: number) {
    const personId = await bookPerson(a, source, identifier);
    const numbers: string[] = [];
    for (let i = 0; i < victims; i++) {
      const sms = `+1${++phone}`;
      numbers.push(sms);
      const res = await a
        .http()
        .post('/v1/enrollments')
        .set('Authorization', `Bearer ${specialist}`)
        .send({ personId, language: 'en', contacts: [{ channel: 'sms', address: sms }] });
      expect(res.status).toBe(201);
    }
    return numbers;
  }

  it('#11.3 two concurrent resends of one notification: one new round (202), the other a clear 409, never a 500', async () => {
    const [sms] = await enrolSms('RACE-RESEND', 1);
    const res = await postEvents(a, source, event({ person: personWith('RACE-RESEND'), type: 'RELEASED' }));
    await a.app.get(DispatcherService).drain();
    const { rows } = await a.db.query(`SELECT id, registration_id FROM notification WHERE event_id = $1`, [res.body.results[0].eventId]);
    const notificationId = rows[0].id as string;

    // Round 1 held by an open transaction: both resends read the same max(round) and meet on the unique key.
    const holder = await a.db.connect();
    let answers: { status: number; body: { code?: string } }[];
    try {
      await holder.query('BEGIN');
      await holder.query(
        `INSERT INTO delivery (purpose, notification_id, contact_id, channel, due_at, round)
         SELECT 'alert', notification_id, contact_id, channel, due_at, 1 FROM delivery WHERE notification_id = $1 AND round = 0`,
        [notificationId],
      );
      const resend = () =>
        a
          .http()
          .post(`/v1/notifications/${notificationId}/resend`)
          .set('Authorization', `Bearer ${specialist}`)
          .then((r) => r);
      const both = Promise.all([resend(), resend()]);
      await blockedSessions(a.db, 2);
      await holder.query('ROLLBACK');
      answers = await both;
    } finally {
      holder.release();
    }
    expect(answers.map((r) => r.status).sort()).toEqual([202, 409]);
    expect(answers.find((r) => r.status === 409)!.body.code).toBe('RESEND_IN_PROGRESS');
    const rounds = await a.db.query(
      `SELECT round, count(*)::int AS n FROM delivery WHERE notification_id = $1 GROUP BY round ORDER BY round`,
      [notificationId],
    );
    expect(rounds.rows).toEqual([
      { round: 0, n: 1 },
      { round: 1, n: 1 },
    ]);
    // The victim gets the alert and one resend of it.
    await a.app.get(DispatcherService).drain();
    expect(twilio.messagesTo(sms)).toHaveLength(2);
  });

  it('#11.3 lost lease: a worker whose batch was partly re-claimed by another sends only what it still holds; nothing is sent twice', async () => {
    const numbers = await enrolSms('RACE-LEASE', 6);
    const res = await postEvents(a, source, event({ person: personWith('RACE-LEASE'), type: 'ESCAPED' }));
    expect(res.status).toBe(202);
    twilio.requests.length = 0;

    // Attempts cannot be written while the test holds this lock: worker A stops between loading its batch and its ledger rows.
    const holder = await a.db.connect();
    let sendingA: Promise<void>;
    let sendingB: Promise<void>;
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE delivery_attempt IN SHARE MODE');
      // One batch, sent once (a drain would claim again and mask what the batch itself did).
      const dispatcherA = a.app.get(DispatcherService);
      const batch = await dispatcherA.claim(256);
      expect(batch.ids).toHaveLength(6);
      sendingA = dispatcherA.send(batch);
      await blockedSessions(a.db, 1, 'INSERT INTO delivery_attempt');
      // A's leases run out while it is stalled; worker B claims two of its six and also stalls on the lock.
      clock.advance(61_000);
      const dispatcherB = b.app.get(DispatcherService);
      const reclaimed = await dispatcherB.claim(2);
      expect(reclaimed.ids).toHaveLength(2);
      sendingB = dispatcherB.send(reclaimed);
      await blockedSessions(a.db, 2, 'INSERT INTO delivery_attempt');
      await holder.query('COMMIT');
    } finally {
      holder.release();
    }
    await Promise.all([sendingA, sendingB]);

    const sent = twilio.requests.map((r) => r.params.To).sort();
    expect(sent).toEqual([...numbers].sort());
    const { rows } = await a.db.query(
      `SELECT d.status, count(a.*)::int AS attempts FROM delivery d JOIN notification n ON n.id = d.notification_id
       LEFT JOIN delivery_attempt a ON a.delivery_id = d.id WHERE n.event_id = $1 GROUP BY d.id`,
      [res.body.results[0].eventId],
    );
    expect(rows).toHaveLength(6);
    expect(rows.every((row) => row.status === 'sent' && row.attempts === 1)).toBe(true);
    clock.set(new Date('2026-11-26T18:00:00Z'));
  });
});
