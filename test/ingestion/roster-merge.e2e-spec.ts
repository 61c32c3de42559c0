import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockWaiters } from '../support/lock-waiters.js';
import { createSource, event, personWith, postEvents, putRoster, type TestSource } from '../support/sources.js';
import { enrol, notifiedByType, personOf, releaseMails, statusOf } from '../support/roster-people.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * A held roster diff names the persons it would release as they were when it was held. Merges
 * that happen before an admin approves it must be followed to the surviving record.
 */
describe('held roster diffs and identity merges', () => {
  let t: TestApp;
  let jail: TestSource;
  let ice: TestSource;
  let specialist: string;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp();
    jail = await createSource(t);
    ice = await createSource(t);
    specialist = await t.staffToken('specialist');
    admin = await t.adminToken();
  });
  afterAll(() => t.close());

  /** Others on the same roster, enough that dropping most of them is held for an admin. */
  const crowd = (tag: string, from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => personWith(`${tag}-${from + i}`, { firstName: `P${from + i}`, lastName: tag }));

  /** The record that joins an A-number and an FBI number: whatever it reports, the two persons merge. */
  const joined = (tag: string) => ({
    identifiers: [
      { system: 'A_NUMBER', value: `${tag}A` },
      { system: 'FBI_NUMBER', value: `${tag}F` },
    ],
    firstName: 'John',
    lastName: 'Doe',
  });

  const post = async (source: TestSource, body: Record<string, unknown>) => {
    const res = await postEvents(t, source, event(body));
    expect(res.status, res.text).toBe(202);
    return res.body.results[0].eventId as string;
  };

  const approve = (snapshotId: string) =>
    t.http().post(`/v1/admin/roster-snapshots/${snapshotId}/approve`).set('Authorization', `Bearer ${admin}`);

  /**
   * A victim registered on the older record B (known by an FBI number, booked elsewhere); the younger
   * record A (an A-number) sits on facility `code`'s roster with 39 others; a second roster drops A and
   * 29 others and is held. Returns what the test needs.
   */
  async function heldReleaseOfYounger(tag: string, code: string) {
    await post(ice, {
      person: personWith(`${tag}F`, {}, 'FBI_NUMBER'),
      facility: { code: `${code}-ICE` },
      occurredAt: '2026-11-19T06:00:00Z',
    });
    const survivor = await personOf(t, `${tag}F`);
    const email = `${tag.toLowerCase()}.victim@example.org`;
    const registrationId = await enrol(t, specialist, survivor, email);
    const baseline = await putRoster(t, jail, code, {
      asOf: '2026-11-20T06:00:00Z',
      people: [personWith(`${tag}A`), ...crowd(tag, 0, 39)],
    });
    expect(baseline.body).toMatchObject({ baseline: true });
    const younger = await personOf(t, `${tag}A`);
    expect(younger).not.toBe(survivor);
    const held = await putRoster(t, jail, code, { asOf: '2026-11-21T06:00:00Z', people: crowd(tag, 29, 39) });
    expect(held.body).toMatchObject({ held: true, released: 30 });
    return { survivor, younger, registrationId, email, snapshotId: held.body.snapshotId as string };
  }

  it('#11.3 roster approval vs merge: a held release of a record merged into another since is applied to the survivor, whose victim is alerted once', async () => {
    const { survivor, registrationId, email, snapshotId } = await heldReleaseOfYounger('RMG1', 'RMG-1');
    // A late booking, from before the held roster, names both identifiers: A merges into B.
    await post(jail, { person: joined('RMG1'), facility: { code: 'RMG-1' }, occurredAt: '2026-11-20T12:00:00Z' });
    expect(await personOf(t, 'RMG1A')).toBe(survivor);
    expect(await statusOf(t, survivor)).toEqual({ custody_status: 'IN_CUSTODY', code: 'RMG-1' });

    const approved = await approve(snapshotId);
    expect(approved.status, approved.text).toBe(200);
    expect(approved.body).toMatchObject({ released: 30 });
    expect(await notifiedByType(t, registrationId)).toEqual({ BOOKED: 1, RELEASED: 1 });
    expect(await releaseMails(t, admin, email)).toBe(1);
    expect(await statusOf(t, survivor)).toEqual({ custody_status: 'RELEASED', code: 'RMG-1' });
    const { rows } = await t.db.query(`SELECT person_id FROM custody_event WHERE roster_snapshot_id = $1 AND type = 'RELEASED'`, [
      snapshotId,
    ]);
    expect(rows).toHaveLength(30);
    expect(rows.filter((row) => row.person_id === survivor)).toHaveLength(1);

    expect((await approve(snapshotId)).status).toBe(404);
    expect(await notifiedByType(t, registrationId)).toEqual({ BOOKED: 1, RELEASED: 1 });
  });

  it('#11.3 roster approval vs merge: a survivor with newer custody news gets the held release as a late event (alerted once), its status not rolled back', async () => {
    const { survivor, registrationId, email, snapshotId } = await heldReleaseOfYounger('RMG2', 'RMG-2');
    // The merging booking is newer than the held roster.
    await post(jail, { person: joined('RMG2'), facility: { code: 'RMG-2' }, occurredAt: '2026-11-21T09:00:00Z' });

    const approved = await approve(snapshotId);
    expect(approved.status, approved.text).toBe(200);
    expect(await notifiedByType(t, registrationId)).toEqual({ BOOKED: 1, RELEASED: 1 });
    expect(await releaseMails(t, admin, email)).toBe(1);
    const { rows } = await t.db.query(`SELECT custody_status, status_as_of FROM person WHERE id = $1`, [survivor]);
    expect(rows[0]).toEqual({ custody_status: 'IN_CUSTODY', status_as_of: new Date('2026-11-21T09:00:00Z') });
  });

  it('#11.3 roster approval vs merge: a held release of a record merged into one the held roster still names releases nobody', async () => {
    // The older record is the A-number one this time, and the held roster names only the FBI number's record.
    await post(jail, { person: personWith('RMG3A'), facility: { code: 'RMG-3' }, occurredAt: '2026-11-19T06:00:00Z' });
    const survivor = await personOf(t, 'RMG3A');
    const baseline = await putRoster(t, jail, 'RMG-3', {
      asOf: '2026-11-20T06:00:00Z',
      people: [personWith('RMG3A'), personWith('RMG3F', {}, 'FBI_NUMBER'), ...crowd('RMG3', 0, 38)],
    });
    expect(baseline.body).toMatchObject({ baseline: true });
    const younger = await personOf(t, 'RMG3F');
    const email = 'rmg3.victim@example.org';
    const registrationId = await enrol(t, specialist, younger, email);
    const held = await putRoster(t, jail, 'RMG-3', {
      asOf: '2026-11-21T06:00:00Z',
      people: [personWith('RMG3F', {}, 'FBI_NUMBER'), ...crowd('RMG3', 29, 38)],
    });
    expect(held.body).toMatchObject({ held: true, released: 30 });
    // A hearing notice names both: one man, whom the held roster still lists by his FBI number.
    await post(jail, {
      type: 'HEARING_SCHEDULED',
      scheduledFor: '2026-12-20T15:00:00Z',
      person: joined('RMG3'),
      facility: { code: 'RMG-3' },
      occurredAt: '2026-11-20T12:00:00Z',
    });
    expect(await personOf(t, 'RMG3F')).toBe(survivor);

    const approved = await approve(held.body.snapshotId);
    expect(approved.status, approved.text).toBe(200);
    expect(approved.body).toMatchObject({ released: 29 });
    expect(await notifiedByType(t, registrationId)).toEqual({ HEARING_SCHEDULED: 1 });
    expect(await releaseMails(t, admin, email)).toBe(0);
    expect(await statusOf(t, survivor)).toEqual({ custody_status: 'IN_CUSTODY', code: 'RMG-3' });
  });

  it('#11.3 roster approval vs merge: a merge that starts while an approval records its events waits for it; the released record’s victim is alerted', async () => {
    await post(ice, { person: personWith('RMG4F', {}, 'FBI_NUMBER'), facility: { code: 'RMG-4-ICE' }, occurredAt: '2026-11-19T06:00:00Z' });
    const older = await personOf(t, 'RMG4F');
    await putRoster(t, jail, 'RMG-4', { asOf: '2026-11-20T06:00:00Z', people: [personWith('RMG4A'), ...crowd('RMG4', 0, 39)] });
    const younger = await personOf(t, 'RMG4A');
    const email = 'rmg4.victim@example.org';
    const registrationId = await enrol(t, specialist, younger, email);
    const held = await putRoster(t, jail, 'RMG-4', { asOf: '2026-11-21T06:00:00Z', people: crowd('RMG4', 29, 39) });
    expect(held.body).toMatchObject({ held: true, released: 30 });
    const snapshotId = held.body.snapshotId as string;

    // An uncommitted event with the id the approval gives another released person's release makes the
    // approval wait right there, after it has read whom to release.
    const bystander = await personOf(t, 'RMG40');
    const blocker = await t.db.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(
        `INSERT INTO custody_event (source_id, source_event_id, body_hash, payload, type, occurred_at, person_id, facility_id)
         SELECT $1, $2, '\\x00', '{}', 'BOOKED', now(), id, facility_id FROM person WHERE id = $3`,
        [jail.sourceId, `roster:${snapshotId}:RELEASED:${bystander}`, bystander],
      );
      const approving = approve(snapshotId).then((res) => res);
      await lockWaiters(t.db, 1);
      const merging = postEvents(
        t,
        ice,
        event({ type: 'HEARING_SCHEDULED', scheduledFor: '2026-12-20T15:00:00Z', person: joined('RMG4') }),
      );
      await Promise.race([merging.then((res) => res), lockWaiters(t.db, 2)]);
      await blocker.query('ROLLBACK');

      const [approved, merged] = await Promise.all([approving, merging]);
      expect(approved.status, approved.text).toBe(200);
      expect(merged.status, merged.text).toBe(202);
    } finally {
      blocker.release();
    }
    expect(await personOf(t, 'RMG4A')).toBe(older);
    expect((await notifiedByType(t, registrationId)).RELEASED).toBe(1);
    expect(await releaseMails(t, admin, email)).toBe(1);
  });
});
