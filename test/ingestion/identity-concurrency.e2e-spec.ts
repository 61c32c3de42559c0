import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NamedStatement, Queryable } from '../../src/database/queryable.js';
import { IdentityResolver } from '../../src/people/identity-resolver.js';
import { lockWaiters } from '../support/lock-waiters.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** Identity resolution and merges under concurrent transactions, forced with a second connection. */
describe('identity under concurrency', () => {
  let t: TestApp;
  let source: TestSource;
  let other: TestSource;
  let specialist: string;

  beforeAll(async () => {
    t = await startTestApp();
    source = await createSource(t);
    other = await createSource(t);
    specialist = await t.staffToken('specialist');
  });
  afterAll(() => t.close());

  /** A person known by two identifiers of different systems: the event that merges two records. */
  const joined = (aNumber: string, fbiNumber: string) => ({
    identifiers: [
      { system: 'A_NUMBER', value: aNumber },
      { system: 'FBI_NUMBER', value: fbiNumber },
    ],
    firstName: 'John',
    lastName: 'Doe',
  });

  const book = async (person: Record<string, unknown>, from = source) => {
    const res = await postEvents(t, from, event({ person }));
    expect(res.status, res.text).toBe(202);
    return res.body.results[0].eventId as string;
  };

  it('#11.3 personReferences: a failed first merge is not cached; the next merge works', async () => {
    await book(personWith('REFA1'));
    await book(personWith('REFF1', {}, 'FBI_NUMBER'));

    // The first merge after boot loses its connection while reading the catalogue.
    const client = await t.db.connect();
    try {
      await client.query('BEGIN');
      let failed = false;
      const flaky: Queryable = {
        query: async <T>(sql: string | NamedStatement, parameters?: unknown[]): Promise<T> => {
          if (!failed && (typeof sql === 'string' ? sql : sql.text).includes('pg_constraint')) {
            failed = true;
            throw new Error('Connection terminated unexpectedly');
          }
          return (await client.query(sql, parameters)).rows as T;
        },
      };
      await expect(t.app.get(IdentityResolver).resolve(flaky, source.sourceId, [joined('REFA1', 'REFF1')])).rejects.toThrow(
        'Connection terminated unexpectedly',
      );
      expect(failed).toBe(true);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }

    const res = await postEvents(t, source, event({ person: joined('REFA1', 'REFF1') }));
    expect(res.status, res.text).toBe(202);
    const { rows } = await t.db.query(
      `SELECT count(DISTINCT person_id)::int AS persons FROM person_identifier WHERE value IN ('REFA1', 'REFF1')`,
    );
    expect(rows[0].persons).toBe(1);
  });

  const personOf = async (eventId: string) =>
    (await t.db.query(`SELECT person_id FROM custody_event WHERE id = $1`, [eventId])).rows[0].person_id as string;

  let phone = 7135551000;
  /** A victim enrolled (verified SMS contact) for a person; returns the registration id. */
  const enrol = async (personId: string) => {
    const res = await t
      .http()
      .post('/v1/enrollments')
      .set('Authorization', `Bearer ${specialist}`)
      .send({ personId, language: 'en', contacts: [{ channel: 'sms', address: `+1${++phone}` }] });
    expect(res.status, res.text).toBe(201);
    return res.body.registrationId as string;
  };

  /**
   * Two records of one man, the older known by an FBI number, the younger by an A-number, with a
   * victim registered on the younger; and a connection that, holding an uncommitted event with the
   * same id as `pausedEventId`, makes the request recording that event wait right there.
   */
  async function stage(tag: string, paused: { source: TestSource; sourceEventId: string }) {
    const older = await personOf(await book(personWith(`${tag}F`, {}, 'FBI_NUMBER'), other));
    const younger = await personOf(await book(personWith(`${tag}A`)));
    const registrationId = await enrol(younger);
    const unrelated = await book(personWith(`${tag}Z`));
    const blocker = await t.db.connect();
    await blocker.query('BEGIN');
    await blocker.query(
      `INSERT INTO custody_event (source_id, source_event_id, body_hash, payload, type, occurred_at, person_id, facility_id)
       SELECT $1, $2, '\\x00', '{}', 'BOOKED', now(), person_id, facility_id FROM custody_event WHERE id = $3`,
      [paused.source.sourceId, paused.sourceEventId, unrelated],
    );
    return { older, younger, registrationId, blocker };
  }

  const planned = async (eventId: string, registrationId: string) =>
    (
      await t.db.query(`SELECT count(*)::int AS n FROM notification WHERE event_id = $1 AND registration_id = $2`, [
        eventId,
        registrationId,
      ])
    ).rows[0].n as number;

  it('#11.3 owner lookup vs merge: an event resolved to a person that a concurrent merge moves away still alerts its registrations', async () => {
    const release = event({ type: 'RELEASED', person: personWith('OWN1A') });
    const { older, registrationId, blocker } = await stage('OWN1', { source, sourceEventId: release.sourceEventId as string });
    try {
      // The release has found its person (the younger record) and waits to write its event.
      const releasing = postEvents(t, source, release).then((res) => res);
      await lockWaiters(t.db, 1);
      // Meanwhile an event from the other source names both identifiers: the younger record merges into the older.
      const merging = postEvents(t, other, event({ person: joined('OWN1A', 'OWN1F') })).then((res) => res);
      await Promise.race([merging, lockWaiters(t.db, 2)]);
      await blocker.query('ROLLBACK');

      const [released, merged] = await Promise.all([releasing, merging]);
      expect(released.status, released.text).toBe(202);
      expect(merged.status, merged.text).toBe(202);
      const eventId = released.body.results[0].eventId as string;
      expect(released.body.results[0].notificationsPlanned).toBe(1);
      expect(await planned(eventId, registrationId)).toBe(1);
      expect(await personOf(eventId)).toBe(older);
    } finally {
      blocker.release();
    }
  });

  it('#11.3 owner lookup vs merge: an event arriving while a merge is under way lands on the survivor and alerts the moved registrations', async () => {
    const merge = event({ person: joined('OWN2A', 'OWN2F') });
    const { older, registrationId, blocker } = await stage('OWN2', { source: other, sourceEventId: merge.sourceEventId as string });
    try {
      // The merge has moved the registration (uncommitted) and waits to write its own event.
      const merging = postEvents(t, other, merge).then((res) => res);
      await lockWaiters(t.db, 1);
      const releasing = postEvents(t, source, event({ type: 'RELEASED', person: personWith('OWN2A') })).then((res) => res);
      await Promise.race([releasing, lockWaiters(t.db, 2)]);
      await blocker.query('ROLLBACK');

      const [released, merged] = await Promise.all([releasing, merging]);
      expect(merged.status, merged.text).toBe(202);
      expect(released.status, released.text).toBe(202);
      const eventId = released.body.results[0].eventId as string;
      expect(released.body.results[0].notificationsPlanned).toBe(1);
      expect(await planned(eventId, registrationId)).toBe(1);
      expect(await personOf(eventId)).toBe(older);
      const status = await t.db.query(`SELECT custody_status FROM person WHERE id = $1`, [older]);
      expect(status.rows[0].custody_status).toBe('RELEASED');
    } finally {
      blocker.release();
    }
  });

  it('#11.3 owner lookup vs merge: persons a roster read unheld are held before its events; one merged meanwhile fails the transaction as 40001 (run again)', async () => {
    const older = await personOf(await book(personWith('OWN3F', {}, 'FBI_NUMBER'), other));
    const younger = await personOf(await book(personWith('OWN3A')));
    const merged = await postEvents(t, other, event({ person: joined('OWN3A', 'OWN3F') }));
    expect(merged.status, merged.text).toBe(202);
    const resolver = t.app.get(IdentityResolver);
    const db = t.app.get(DataSource);
    await expect(db.transaction((tx) => resolver.hold(tx, [older, younger]))).rejects.toMatchObject({ code: '40001' });
    await expect(db.transaction((tx) => resolver.hold(tx, [older]))).resolves.toBeUndefined();
  });
});
