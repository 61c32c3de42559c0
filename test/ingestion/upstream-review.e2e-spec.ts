import { normalizeIdentifierValue } from '../../src/people/identifiers.js';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSource, event, personWith, postEvents, putRoster, signature } from '../support/sources.js';
import { lockWaiters } from '../support/lock-waiters.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** Defects found by the review of the upstream feed side: each test failed before its fix. */
describe('#11 review of the upstream feed side', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const count = async (sql: string, params: unknown[] = []) => (await t.db.query(sql, params)).rows[0].n as number;

  it('#11 upstream review: an identifier that is only spaces and dashes is 422: it would join every such person, across sources, into one', async () => {
    const first = await createSource(t);
    const second = await createSource(t);
    const persons = await count(`SELECT count(*)::int AS n FROM person`);
    const dash = await postEvents(t, first, event({ person: personWith('-', { firstName: 'Ana', lastName: 'Ruiz' }) }));
    expect(dash.status, dash.text).toBe(422);
    expect(dash.headers['content-type']).toMatch(/problem\+json/);
    expect(dash.body.errors).toEqual([{ path: 'person.identifiers[0].value', message: expect.any(String) }]);
    const space = await postEvents(t, second, event({ person: personWith(' - ', { firstName: 'Bo', lastName: 'Lee' }) }));
    expect(space.status, space.text).toBe(422);
    const roster = await putRoster(t, second, 'REV-1', { asOf: new Date().toISOString(), people: [personWith('--')] });
    expect(roster.status, roster.text).toBe(422);
    expect(roster.body.errors).toEqual([{ path: 'people[0].identifiers[0].value', message: expect.any(String) }]);
    expect(await count(`SELECT count(*)::int AS n FROM person`)).toBe(persons);
    expect(await count(`SELECT count(*)::int AS n FROM person_identifier WHERE value = ''`)).toBe(0);
  });

  it('#11 upstream review: a held diff that a newer applied roster has overtaken cannot be approved: it would release people that roster lists', async () => {
    const source = await createSource(t);
    const admin = await t.adminToken();
    const people = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => personWith(`SUP-${from + i}`));
    await putRoster(t, source, 'SUP-1', { asOf: '2026-11-20T06:00:00Z', people: people(0, 100) });
    // A maintenance run's truncated export is held...
    const truncated = await putRoster(t, source, 'SUP-1', { asOf: '2026-11-21T06:00:00Z', people: people(30, 100) });
    expect(truncated.body).toMatchObject({ held: true, released: 30 });
    // ...and the next full export says everyone is still there.
    const full = await putRoster(t, source, 'SUP-1', { asOf: '2026-11-21T07:00:00Z', people: people(0, 100) });
    expect(full.body).toMatchObject({ held: false, released: 0, booked: 0, unchanged: 100 });

    const approve = await t
      .http()
      .post(`/v1/admin/roster-snapshots/${truncated.body.snapshotId}/approve`)
      .set('Authorization', `Bearer ${admin}`);
    expect(approve.status, approve.text).toBe(409);
    expect(approve.headers['content-type']).toMatch(/problem\+json/);
    expect(await count(`SELECT count(*)::int AS n FROM custody_event WHERE roster_snapshot_id = $1`, [truncated.body.snapshotId])).toBe(0);
    const released = await count(
      `SELECT count(*)::int AS n FROM person p JOIN person_identifier i ON i.person_id = p.id
       WHERE i.value LIKE 'SUP%' AND p.custody_status <> 'IN_CUSTODY'`,
    );
    expect(released).toBe(0);
    // Still there for the admin to discard.
    const discard = await t
      .http()
      .post(`/v1/admin/roster-snapshots/${truncated.body.snapshotId}/discard`)
      .set('Authorization', `Bearer ${admin}`);
    expect(discard.status).toBe(204);
  });

  it('#11 upstream review: rosters queued behind one facility do not take every database connection: another source’s event still records', async () => {
    const jail = await createSource(t);
    const other = await createSource(t);
    await putRoster(t, jail, 'POOL-1', { asOf: '2026-11-20T06:00:00Z', people: [personWith('POOL-0')] });
    const [{ id }] = (await t.db.query(`SELECT id FROM facility WHERE code = 'POOL-1'`)).rows;
    // A long roster of that facility in progress, as far as the others can tell.
    const holder = await t.db.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(7317, hashtext($1))`, [id]);
      const rosters = Array.from({ length: 24 }, (_, i) =>
        putRoster(t, jail, 'POOL-1', { asOf: new Date(Date.UTC(2026, 10, 20, 7, i)).toISOString(), people: [personWith('POOL-0')] }).then(
          (res) => res,
        ),
      );
      await lockWaiters(t.db, 4);
      const started = Date.now();
      const res = await postEvents(t, other, event());
      expect(res.status, res.text).toBe(202);
      expect(Date.now() - started).toBeLessThan(2_000);
      await holder.query(`SELECT pg_advisory_unlock(7317, hashtext($1))`, [id]);
      for (const roster of await Promise.all(rosters)) expect([202, 409], roster.text).toContain(roster.status);
    } finally {
      holder.release();
    }
  }, 60_000);

  const eventsAbout = async (value: string) =>
    (
      await t.db.query(
        `SELECT e.type FROM custody_event e JOIN person_identifier i ON i.person_id = e.person_id
         WHERE i.value = $1 AND e.roster_snapshot_id IS NOT NULL ORDER BY e.occurred_at`,
        [normalizeIdentifierValue(value)],
      )
    ).rows.map((row: { type: string }) => row.type);

  it('#11 upstream review: a roster says nothing about a person whose status an event set after its asOf (no false release or booking)', async () => {
    const source = await createSource(t);
    const people = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => personWith(`LATE-${from + i}`));
    await putRoster(t, source, 'LATE-1', { asOf: '2026-11-20T06:00:00Z', people: [...people(0, 5), personWith('LATE-OUT')] });
    // After the export the next roster carries was taken: one arrives, one leaves.
    await postEvents(t, source, event({ occurredAt: '2026-11-20T06:30:00Z', person: personWith('LATE-IN'), facility: { code: 'LATE-1' } }));
    await postEvents(
      t,
      source,
      event({ type: 'RELEASED', occurredAt: '2026-11-20T06:40:00Z', person: personWith('LATE-OUT'), facility: { code: 'LATE-1' } }),
    );
    const res = await putRoster(t, source, 'LATE-1', { asOf: '2026-11-20T06:15:00Z', people: [...people(0, 5), personWith('LATE-OUT')] });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({ booked: 0, released: 0, held: false });
    expect(await eventsAbout('LATE-IN')).toEqual([]);
    expect(await eventsAbout('LATE-OUT')).toEqual(['BOOKED']);
  });

  it('#11 upstream review: a validly signed request whose webhook-id is too long to index is a 401, not a 500, and records nothing', async () => {
    const source = await createSource(t, { signingRequired: true });
    const webhookId = `msg_${randomBytes(6000).toString('base64url')}`;
    const body = event();
    const res = await postEvents(t, source, body, { sign: true, webhookId });
    expect(res.status, res.text).toBe(401);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(await count(`SELECT count(*)::int AS n FROM custody_event WHERE source_event_id = $1`, [body.sourceEventId])).toBe(0);
    const raw = JSON.stringify({ asOf: '2026-11-20T06:00:00Z', people: [personWith('LONG-ID')] });
    const roster = await t
      .http()
      .put('/v1/facilities/LONG-ID/roster')
      .set('Authorization', `Bearer ${source.apiKey}`)
      .set('Content-Type', 'application/json')
      .set(signature(source.signingSecret, raw, webhookId))
      .send(raw);
    expect(roster.status, roster.text).toBe(401);
    expect(roster.headers['content-type']).toMatch(/problem\+json/);
    // A webhook-id of an ordinary length still goes through.
    expect((await postEvents(t, source, event(), { sign: true, webhookId: `msg_${'x'.repeat(250)}` })).status).toBe(202);
  });
});
