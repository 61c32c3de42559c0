import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSource, event, personWith, postEvents, putRoster, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const people = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => personWith(`${prefix}-${from + i}`, { firstName: `P${from + i}`, lastName: prefix }));

describe('roster snapshots', () => {
  let t: TestApp;
  let source: TestSource;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp();
    source = await createSource(t);
    admin = await t.adminToken();
  });
  afterAll(() => t.close());

  const statusOf = async (value: string) =>
    (
      await t.db.query(
        `SELECT p.custody_status, f.code FROM person p JOIN person_identifier i ON i.person_id = p.id LEFT JOIN facility f ON f.id = p.facility_id WHERE i.value = $1`,
        [value],
      )
    ).rows[0];
  const eventsOf = async (snapshotId: string) =>
    (
      await t.db.query(`SELECT type, details, notification_block FROM custody_event WHERE roster_snapshot_id = $1 ORDER BY type`, [
        snapshotId,
      ])
    ).rows;

  it('the first snapshot is a baseline: people are in custody, nobody is alerted', async () => {
    const res = await putRoster(t, source, 'r1', { asOf: '2026-11-20T06:00:00-06:00', people: people('R1', 0, 10) });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ snapshotId: expect.any(String), baseline: true, booked: 0, released: 0, unchanged: 10, held: false });
    expect(await statusOf('R10')).toEqual({ custody_status: 'IN_CUSTODY', code: 'R1' });
    const events = await eventsOf(res.body.snapshotId);
    expect(events).toHaveLength(10);
    expect(events.every((e) => e.type === 'BOOKED' && e.notification_block === 'baseline')).toBe(true);
  });

  it('applies snapshots in asOf order: the same one again gets the first answer, an older one is refused', async () => {
    const first = await putRoster(t, source, 'ORDER-1', { asOf: '2026-11-20T06:00:00-06:00', people: people('ORD', 0, 5) });
    const newer = { asOf: '2026-11-20T06:15:00-06:00', people: people('ORD', 1, 5) };
    const applied = await putRoster(t, source, 'ORDER-1', newer);
    expect(applied.body).toMatchObject({ baseline: false, released: 1 });

    const retried = await putRoster(t, source, 'ORDER-1', newer);
    expect(retried.status).toBe(202);
    expect(retried.body).toEqual(applied.body);

    // 06:00 delivered late would put ORD-0 back in custody and release the others' news: refused.
    const late = await putRoster(t, source, 'ORDER-1', { asOf: '2026-11-20T06:00:00-06:00', people: people('ORD', 0, 5) });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('ROSTER_OUT_OF_ORDER');
    expect((await statusOf('ORD0')).custody_status).toBe('RELEASED');
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS n FROM roster_snapshot r JOIN facility f ON f.id = r.facility_id WHERE f.code = 'ORDER-1'`,
    );
    expect(rows[0].n).toBe(2);
    expect(first.body.baseline).toBe(true);
  });

  it('later snapshots book newcomers and release whoever vanished, as roster-derived events', async () => {
    const res = await putRoster(t, source, 'R1', {
      asOf: '2026-11-21T06:00:00-06:00',
      people: [...people('R1', 1, 10), ...people('R1', 10, 11)],
    });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ snapshotId: expect.any(String), baseline: false, booked: 1, released: 1, unchanged: 9, held: false });
    const events = await eventsOf(res.body.snapshotId);
    expect(events.map((e) => e.type)).toEqual(['BOOKED', 'RELEASED']);
    for (const e of events) {
      expect(e.details).toEqual({ derivedFrom: 'roster', snapshotId: res.body.snapshotId });
      expect(e.notification_block).toBeNull();
    }
    expect((await statusOf('R10')).custody_status).toBe('RELEASED');
    expect((await statusOf('R110')).custody_status).toBe('IN_CUSTODY');
    const unchanged = await putRoster(t, source, 'R1', { asOf: '2026-11-22T06:00:00-06:00', people: [...people('R1', 1, 11)] });
    expect(unchanged.body).toMatchObject({ booked: 0, released: 0, unchanged: 10, held: false });
  });

  it('someone transferred away is not released when they vanish from the old roster', async () => {
    await putRoster(t, source, 'R2', { asOf: '2026-11-20T06:00:00Z', people: people('R2', 0, 5) });
    const transfer = await postEvents(
      t,
      source,
      event({
        person: personWith('R2-0'),
        type: 'TRANSFERRED',
        occurredAt: '2026-11-20T12:00:00Z',
        facility: { code: 'R2' },
        toFacility: { code: 'STATE-1' },
      }),
    );
    expect(transfer.status).toBe(202);
    const res = await putRoster(t, source, 'R2', { asOf: '2026-11-21T06:00:00Z', people: people('R2', 1, 5) });
    expect(res.body).toMatchObject({ booked: 0, released: 0, unchanged: 4, held: false });
    expect(await statusOf('R20')).toEqual({ custody_status: 'TRANSFERRED', code: 'STATE-1' });
  });

  it('holds a mass release for an admin, lists it with names, and emits it on approval', async () => {
    await putRoster(t, source, 'R3', { asOf: '2026-11-20T06:00:00Z', people: people('R3', 0, 100) });
    const res = await putRoster(t, source, 'R3', { asOf: '2026-11-21T06:00:00Z', people: people('R3', 30, 101) });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ snapshotId: expect.any(String), baseline: false, booked: 1, released: 30, unchanged: 70, held: true });
    expect(await eventsOf(res.body.snapshotId)).toEqual([]);
    expect((await statusOf('R30')).custody_status).toBe('IN_CUSTODY');

    const held = await t.http().get('/v1/admin/roster-snapshots?status=held').set('Authorization', `Bearer ${admin}`);
    expect(held.status).toBe(200);
    const snapshot = held.body.snapshots.find((s: { snapshotId: string }) => s.snapshotId === res.body.snapshotId);
    expect(snapshot).toMatchObject({ status: 'held', facility: { code: 'R3' }, population: 100, released: 30, booked: 1 });
    expect(snapshot.wouldRelease).toHaveLength(30);
    expect(snapshot.wouldRelease[0].displayName).toMatch(/^P\d+ R3$/);

    const approved = await t
      .http()
      .post(`/v1/admin/roster-snapshots/${res.body.snapshotId}/approve`)
      .set('Authorization', `Bearer ${admin}`);
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ released: 30, booked: 1 });
    expect((await eventsOf(res.body.snapshotId)).filter((e) => e.type === 'RELEASED')).toHaveLength(30);
    expect((await statusOf('R30')).custody_status).toBe('RELEASED');
    expect((await statusOf('R3100')).custody_status).toBe('IN_CUSTODY');

    const twice = await t.http().post(`/v1/admin/roster-snapshots/${res.body.snapshotId}/approve`).set('Authorization', `Bearer ${admin}`);
    expect(twice.status).toBe(404);
    // #14 every admin action is audited: the decision, by whom, from where, and what it released.
    const audit = await t.db.query(
      `SELECT actor_role, client_address, details FROM audit_log WHERE action = 'roster.approve' AND target_id = $1`,
      [res.body.snapshotId],
    );
    expect(audit.rows).toEqual([
      { actor_role: 'admin', client_address: expect.any(String), details: { facilityCode: 'R3', released: 30, booked: 1 } },
    ]);
  });

  it('discards a held diff without a trace in anyone’s status', async () => {
    await putRoster(t, source, 'R4', { asOf: '2026-11-20T06:00:00Z', people: people('R4', 0, 40) });
    const res = await putRoster(t, source, 'R4', { asOf: '2026-11-21T06:00:00Z', people: [] });
    expect(res.body).toMatchObject({ held: true, released: 40 });
    const discard = await t
      .http()
      .post(`/v1/admin/roster-snapshots/${res.body.snapshotId}/discard`)
      .set('Authorization', `Bearer ${admin}`);
    expect(discard.status).toBe(204);
    expect(await eventsOf(res.body.snapshotId)).toEqual([]);
    expect((await statusOf('R40')).custody_status).toBe('IN_CUSTODY');
    const listed = await t.http().get('/v1/admin/roster-snapshots?status=discarded').set('Authorization', `Bearer ${admin}`);
    expect(listed.body.snapshots.map((s: { snapshotId: string }) => s.snapshotId)).toContain(res.body.snapshotId);
    const audit = await t.db.query(`SELECT actor_role, details FROM audit_log WHERE action = 'roster.discard' AND target_id = $1`, [
      res.body.snapshotId,
    ]);
    expect(audit.rows).toEqual([{ actor_role: 'admin', details: { facilityCode: 'R4', released: 40, booked: 0 } }]);
    expect(
      (await t.http().post(`/v1/admin/roster-snapshots/${res.body.snapshotId}/approve`).set('Authorization', `Bearer ${admin}`)).status,
    ).toBe(404);
  });

  it('records the population in the feed', async () => {
    const feeds = await t.http().get('/v1/admin/feeds').set('Authorization', `Bearer ${admin}`);
    const feed = feeds.body.find((f: { sourceId: string }) => f.sourceId === source.sourceId);
    expect(feed.facilities.find((f: { code: string }) => f.code === 'R3').population).toBe(71);
  });

  it('validates the body with paths, and refuses facilities outside the source', async () => {
    const bad = await putRoster(t, source, 'R1', {
      asOf: '2026-11-21',
      people: [personWith('OK-1'), { identifiers: [{ system: 'A_NUMBER', value: 'X' }], firstName: 'A', lastName: '' }],
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['asOf', 'people[1].lastName']);
    const limited = await createSource(t, { facilityCodes: ['ONLY-1'] });
    expect((await putRoster(t, limited, 'R1', { asOf: '2026-11-21T06:00:00Z', people: [] })).status).toBe(403);
    expect((await putRoster(t, source, 'bad code', { asOf: '2026-11-21T06:00:00Z', people: [] })).status).toBe(422);
    const specialist = await t.staffToken('specialist');
    expect((await t.http().get('/v1/admin/roster-snapshots').set('Authorization', `Bearer ${specialist}`)).status).toBe(403);
  });
});
