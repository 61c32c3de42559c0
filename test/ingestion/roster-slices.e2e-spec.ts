import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RosterService } from '../../src/ingestion/roster.service.js';
import { createSource, event, personWith, postEvents, putRoster, type TestSource } from '../support/sources.js';
import { enrol, notifiedByType, personOf, releaseMails, statusOf } from '../support/roster-people.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * A roster is resolved and recorded a slice of people at a time. With slices of three, these
 * rosters of a dozen span several: a person named in two slices, a merge that a later slice
 * triggers on a record an earlier one resolved, and diffs whose booked and released fall in
 * different slices must come out as if the roster had been handled whole.
 */
describe('rosters handled in slices', () => {
  let t: TestApp;
  let jail: TestSource;
  let ice: TestSource;
  let specialist: string;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp();
    t.app.get(RosterService).slicePeople = 3;
    jail = await createSource(t);
    ice = await createSource(t);
    specialist = await t.staffToken('specialist');
    admin = await t.adminToken();
  });
  afterAll(() => t.close());

  const crowd = (tag: string, from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => personWith(`${tag}-${from + i}`, { firstName: `P${from + i}`, lastName: tag }));

  const eventsOf = async (snapshotId: string) =>
    (
      await t.db.query(
        `SELECT e.type, e.person_id, e.minor, e.notification_block, p.merged_into
         FROM custody_event e JOIN person p ON p.id = e.person_id WHERE e.roster_snapshot_id = $1 ORDER BY e.type, e.person_id`,
        [snapshotId],
      )
    ).rows;

  it('#12 roster slices: a person whose identifiers appear in two slices is one person, counted and booked once', async () => {
    const first = { identifiers: [{ system: 'A_NUMBER', value: 'SLC1X' }], firstName: 'Ann', lastName: 'Roe' };
    const again = {
      identifiers: [
        { system: 'A_NUMBER', value: 'SLC1X' },
        { system: 'STATE_ID', value: 'SLC1Y' },
      ],
      firstName: 'Ann',
      lastName: 'Roe-Smith',
      dateOfBirth: '1990-04-01',
    };
    // Slices of three: the first entry is in the first slice, the second in the fourth.
    const people = [first, ...crowd('SLC1', 0, 8), again, ...crowd('SLC1', 8, 10)];
    const res = await putRoster(t, jail, 'SLC-1', { asOf: '2026-11-20T06:00:00Z', people });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({ baseline: true, unchanged: 11 });

    const person = await personOf(t, 'SLC1X');
    expect(await personOf(t, 'SLC1Y')).toBe(person);
    const { rows } = await t.db.query(`SELECT last_name, date_of_birth::text AS dob, merged_into FROM person WHERE id = $1`, [person]);
    expect(rows[0]).toEqual({ last_name: 'Roe-Smith', dob: '1990-04-01', merged_into: null });
    const events = await eventsOf(res.body.snapshotId);
    expect(events).toHaveLength(11);
    expect(events.filter((e) => e.person_id === person)).toHaveLength(1);
    expect(events.every((e) => e.type === 'BOOKED' && e.notification_block === 'baseline' && e.merged_into === null)).toBe(true);

    // The next roster names the person only by the identifier the later slice added, in another slice.
    const next = await putRoster(t, jail, 'SLC-1', {
      asOf: '2026-11-21T06:00:00Z',
      people: [...crowd('SLC1', 0, 10), { ...personWith('SLC1Y', {}, 'STATE_ID') }],
    });
    expect(next.body).toMatchObject({ baseline: false, booked: 0, released: 0, unchanged: 11, held: false });
    expect(await statusOf(t, person)).toEqual({ custody_status: 'IN_CUSTODY', code: 'SLC-1' });
  });

  it('#12 roster slices: a merge a later slice triggers on a record an earlier slice resolved counts the survivor once and books no merged record', async () => {
    // The older record B, known to ICE by an FBI number, with a victim.
    const booked = await postEvents(
      t,
      ice,
      event({ person: personWith('SLC2F', {}, 'FBI_NUMBER'), facility: { code: 'SLC-2-ICE' }, occurredAt: '2026-11-19T06:00:00Z' }),
    );
    expect(booked.status, booked.text).toBe(202);
    const survivor = await personOf(t, 'SLC2F');
    const email = 'slc2.victim@example.org';
    const registrationId = await enrol(t, specialist, survivor, email);

    // The first slice creates a record for the A-number; the fourth names both numbers, merging it into B.
    const joined = {
      identifiers: [
        { system: 'A_NUMBER', value: 'SLC2A' },
        { system: 'FBI_NUMBER', value: 'SLC2F' },
      ],
      firstName: 'John',
      lastName: 'Doe',
    };
    const baseline = await putRoster(t, jail, 'SLC-2', {
      asOf: '2026-11-20T06:00:00Z',
      people: [personWith('SLC2A'), ...crowd('SLC2', 0, 8), joined, ...crowd('SLC2', 8, 10)],
    });
    expect(baseline.status, baseline.text).toBe(202);
    expect(baseline.body).toMatchObject({ baseline: true, unchanged: 11 });
    expect(await personOf(t, 'SLC2A')).toBe(survivor);
    const events = await eventsOf(baseline.body.snapshotId);
    expect(events).toHaveLength(11);
    expect(events.filter((e) => e.merged_into !== null)).toEqual([]);
    expect(events.filter((e) => e.person_id === survivor)).toMatchObject([{ type: 'BOOKED', notification_block: 'baseline' }]);
    expect(await statusOf(t, survivor)).toEqual({ custody_status: 'IN_CUSTODY', code: 'SLC-2' });
    expect(await notifiedByType(t, registrationId)).toEqual({});

    // Still named (by the A-number alone, in the last slice): not released. Then dropped: released once.
    const named = await putRoster(t, jail, 'SLC-2', {
      asOf: '2026-11-21T06:00:00Z',
      people: [...crowd('SLC2', 0, 10), personWith('SLC2A')],
    });
    expect(named.body).toMatchObject({ booked: 0, released: 0, unchanged: 11, held: false });
    const dropped = await putRoster(t, jail, 'SLC-2', { asOf: '2026-11-22T06:00:00Z', people: crowd('SLC2', 0, 10) });
    expect(dropped.body).toMatchObject({ booked: 0, released: 1, unchanged: 10, held: false });
    expect(await notifiedByType(t, registrationId)).toEqual({ RELEASED: 1 });
    expect(await releaseMails(t, admin, email)).toBe(1);
    expect(await statusOf(t, survivor)).toEqual({ custody_status: 'RELEASED', code: 'SLC-2' });
  });

  it('#12 roster slices: booked and released fall in different slices; a retry changes nothing; a minor newcomer is recorded as one', async () => {
    await putRoster(t, jail, 'SLC-3', { asOf: '2026-11-20T06:00:00Z', people: crowd('SLC3', 0, 12) });
    const gone = [1, 7, 11];
    const victims = await Promise.all(
      gone.map(async (n) => ({
        n,
        email: `slc3-${n}@example.org`,
        registrationId: await enrol(t, specialist, await personOf(t, `SLC3-${n}`), `slc3-${n}@example.org`),
      })),
    );
    const stayer = await enrol(t, specialist, await personOf(t, 'SLC3-4'), 'slc3-4@example.org');
    const newcomer = personWith('SLC3-NEW', { firstName: 'Kid', lastName: 'SLC3', dateOfBirth: '2015-06-01' });
    const body = {
      asOf: '2026-11-21T06:00:00Z',
      // Reversed, so every slice mixes people from several of the baseline's slices.
      people: [...crowd('SLC3', 0, 12).filter((_, i) => !gone.includes(i)), newcomer, personWith('SLC3-ADULT')].reverse(),
    };
    const res = await putRoster(t, jail, 'SLC-3', body);
    expect(res.status, res.text).toBe(202);
    expect(res.body).toEqual({ snapshotId: expect.any(String), baseline: false, booked: 2, released: 3, unchanged: 9, held: false });
    const events = await eventsOf(res.body.snapshotId);
    expect(events.map((e) => e.type)).toEqual(['BOOKED', 'BOOKED', 'RELEASED', 'RELEASED', 'RELEASED']);
    const kid = await personOf(t, 'SLC3-NEW');
    expect(events.find((e) => e.person_id === kid)).toMatchObject({ minor: true, notification_block: 'minor' });
    const adult = await personOf(t, 'SLC3-ADULT');
    expect(events.find((e) => e.person_id === adult)).toMatchObject({ minor: false, notification_block: null });
    for (const victim of victims) {
      expect(await notifiedByType(t, victim.registrationId)).toEqual({ RELEASED: 1 });
      expect(await statusOf(t, await personOf(t, `SLC3-${victim.n}`))).toEqual({ custody_status: 'RELEASED', code: 'SLC-3' });
    }
    expect(await notifiedByType(t, stayer)).toEqual({});

    const retried = await putRoster(t, jail, 'SLC-3', body);
    expect(retried.body).toEqual(res.body);
    expect(await eventsOf(res.body.snapshotId)).toHaveLength(5);
    for (const victim of victims) expect(await releaseMails(t, admin, victim.email)).toBe(1);
  });

  it('#12 roster slices: a mass release across slices is held, and its approval releases each dropped person once', async () => {
    await putRoster(t, jail, 'SLC-4', { asOf: '2026-11-20T06:00:00Z', people: crowd('SLC4', 0, 40) });
    const dropped = await personOf(t, 'SLC4-5');
    const email = 'slc4.victim@example.org';
    const registrationId = await enrol(t, specialist, dropped, email);
    const held = await putRoster(t, jail, 'SLC-4', { asOf: '2026-11-21T06:00:00Z', people: crowd('SLC4', 30, 41).reverse() });
    expect(held.body).toMatchObject({ baseline: false, held: true, booked: 1, released: 30, unchanged: 10 });
    expect(await eventsOf(held.body.snapshotId)).toEqual([]);
    const { rows } = await t.db.query(
      `SELECT cardinality(booked_person_ids) AS booked, cardinality(released_person_ids) AS released,
              cardinality(unchanged_person_ids) AS unchanged FROM roster_snapshot WHERE id = $1`,
      [held.body.snapshotId],
    );
    expect(rows[0]).toEqual({ booked: 1, released: 30, unchanged: 10 });

    const approved = await t
      .http()
      .post(`/v1/admin/roster-snapshots/${held.body.snapshotId}/approve`)
      .set('Authorization', `Bearer ${admin}`);
    expect(approved.status, approved.text).toBe(200);
    expect(approved.body).toMatchObject({ booked: 1, released: 30 });
    const events = await eventsOf(held.body.snapshotId);
    expect(events.filter((e) => e.type === 'RELEASED')).toHaveLength(30);
    expect(new Set(events.map((e) => e.person_id)).size).toBe(31);
    expect(await notifiedByType(t, registrationId)).toEqual({ RELEASED: 1 });
    expect(await releaseMails(t, admin, email)).toBe(1);
  });
});
