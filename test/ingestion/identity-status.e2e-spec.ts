import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('identity and custody status', () => {
  let t: TestApp;
  let jail: TestSource;
  let ice: TestSource;
  beforeAll(async () => {
    t = await startTestApp();
    jail = await createSource(t);
    ice = await createSource(t);
  });
  afterAll(() => t.close());

  const personOf = async (eventId: string) =>
    (
      await t.db.query(
        `SELECT p.id, p.custody_status, p.status_as_of, f.code AS facility, p.merged_into
         FROM custody_event e JOIN person p ON p.id = e.person_id LEFT JOIN facility f ON f.id = p.facility_id WHERE e.id = $1`,
        [eventId],
      )
    ).rows[0];
  const post = async (source: TestSource, overrides: Record<string, unknown>) => {
    const res = await postEvents(t, source, event(overrides));
    expect(res.status, res.text).toBe(202);
    return res.body.results[0].eventId as string;
  };

  it('a global identifier links records across sources, after normalizing its value', async () => {
    const a = await post(jail, { person: personWith('200-111 222') });
    const b = await post(ice, { person: personWith('200111222'), facility: { code: 'ICE-HOU' } });
    expect((await personOf(a)).id).toBe((await personOf(b)).id);
  });

  it('a booking number links records only within its own source', async () => {
    const a = await post(jail, { person: personWith('BK-1', {}, 'BOOKING_NUMBER') });
    const b = await post(jail, { person: personWith('bk1', {}, 'BOOKING_NUMBER') });
    const c = await post(ice, { person: personWith('BK-1', {}, 'BOOKING_NUMBER') });
    expect((await personOf(a)).id).toBe((await personOf(b)).id);
    expect((await personOf(c)).id).not.toBe((await personOf(a)).id);
  });

  it('merges two persons when one event joins them, and everything attached follows', async () => {
    const byBooking = await post(jail, { person: personWith('BK-MERGE', {}, 'BOOKING_NUMBER'), occurredAt: '2026-11-01T10:00:00Z' });
    const byFbi = await post(ice, { person: personWith('FBI-MERGE', {}, 'FBI_NUMBER'), occurredAt: '2026-11-02T10:00:00Z' });
    const older = (await personOf(byBooking)).id;
    const younger = (await personOf(byFbi)).id;
    expect(older).not.toBe(younger);

    const joining = await post(jail, {
      type: 'TRANSFERRED',
      occurredAt: '2026-11-03T10:00:00Z',
      toFacility: { code: 'ICE-HOU' },
      person: {
        identifiers: [
          { system: 'BOOKING_NUMBER', value: 'BK-MERGE' },
          { system: 'FBI_NUMBER', value: 'FBI-MERGE' },
        ],
        firstName: 'John',
        lastName: 'Doe',
      },
    });
    const survivor = await personOf(joining);
    expect(survivor.id).toBe(older);
    expect((await personOf(byFbi)).id).toBe(older);
    const { rows } = await t.db.query(`SELECT merged_into FROM person WHERE id = $1`, [younger]);
    expect(rows[0].merged_into).toBe(older);
    const identifiers = await t.db.query(`SELECT system FROM person_identifier WHERE person_id = $1 ORDER BY system`, [older]);
    expect(identifiers.rows.map((r) => r.system)).toEqual(['BOOKING_NUMBER', 'FBI_NUMBER']);
    expect(survivor).toMatchObject({ custody_status: 'TRANSFERRED', facility: 'ICE-HOU' });
  });

  it('a late, older event is recorded but does not roll the status back', async () => {
    const person = personWith('ORDER-1');
    await post(jail, { person, type: 'RELEASED', occurredAt: '2026-11-10T12:00:00Z' });
    const late = await post(jail, { person, type: 'BOOKED', occurredAt: '2026-11-09T08:00:00Z' });
    const state = await personOf(late);
    expect(state.custody_status).toBe('RELEASED');
    expect(state.status_as_of.toISOString()).toBe('2026-11-10T12:00:00.000Z');
    const newer = await post(jail, { person, type: 'RETURNED_TO_CUSTODY', occurredAt: '2026-11-11T08:00:00Z' });
    expect((await personOf(newer)).custody_status).toBe('IN_CUSTODY');
  });

  it('scheduling events leave the status alone', async () => {
    const person = personWith('SCHED-1');
    await post(jail, { person, type: 'BOOKED', occurredAt: '2026-11-10T12:00:00Z' });
    const scheduled = await post(jail, {
      person,
      type: 'RELEASE_SCHEDULED',
      occurredAt: '2026-11-12T12:00:00Z',
      scheduledFor: '2026-12-01T09:00:00-06:00',
    });
    expect((await personOf(scheduled)).custody_status).toBe('IN_CUSTODY');
    const { rows } = await t.db.query(`SELECT scheduled_for FROM custody_event WHERE id = $1`, [scheduled]);
    expect(rows[0].scheduled_for.toISOString()).toBe('2026-12-01T15:00:00.000Z');
  });

  it('a CORRECTION retracts an earlier event and the status is recomputed', async () => {
    const person = personWith('CORR-1');
    await post(jail, { person, type: 'BOOKED', occurredAt: '2026-11-10T12:00:00Z' });
    const wrong = event({ person, type: 'RELEASED', occurredAt: '2026-11-11T12:00:00Z' });
    await postEvents(t, jail, wrong);
    expect(
      (await t.db.query(`SELECT custody_status FROM person p JOIN person_identifier i ON i.person_id = p.id WHERE i.value = 'CORR1'`))
        .rows[0].custody_status,
    ).toBe('RELEASED');
    const correction = await post(jail, {
      person,
      type: 'CORRECTION',
      occurredAt: '2026-11-11T13:00:00Z',
      details: { correctsSourceEventId: wrong.sourceEventId, reason: 'data entry error' },
    });
    expect((await personOf(correction)).custody_status).toBe('IN_CUSTODY');
    const { rows } = await t.db.query(`SELECT retracted_by_event_id FROM custody_event WHERE source_event_id = $1`, [wrong.sourceEventId]);
    expect(rows[0].retracted_by_event_id).toBe(correction);
  });

  it('#11.2 a CORRECTION of an event not received yet waits for it; a correction of a correction is refused whole', async () => {
    const early = await postEvents(t, jail, {
      events: [event(), event({ type: 'CORRECTION', details: { correctsSourceEventId: `not-yet-${randomUUID()}` } })],
    });
    expect(early.status).toBe(202);
    const res = await postEvents(t, jail, {
      events: [event(), event({ type: 'CORRECTION', details: { correctsSourceEventId: early.body.results[1].sourceEventId } })],
    });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].path).toBe('events[1].details.correctsSourceEventId');
  });

  it('a correction may name an event earlier in the same batch; another source cannot correct it', async () => {
    const first = event({ person: personWith('CORR-2'), type: 'ESCAPED' });
    const res = await postEvents(t, jail, {
      events: [first, event({ person: personWith('CORR-2'), type: 'CORRECTION', details: { correctsSourceEventId: first.sourceEventId } })],
    });
    expect(res.status).toBe(202);
    // Another source's correction names an event of its own (one it has not sent): this one stands.
    const retracted = async () =>
      (await t.db.query(`SELECT retracted_by_event_id FROM custody_event WHERE id = $1`, [res.body.results[0].eventId])).rows[0]
        .retracted_by_event_id;
    const byJail = await retracted();
    const foreign = await postEvents(t, ice, event({ type: 'CORRECTION', details: { correctsSourceEventId: first.sourceEventId } }));
    expect(foreign.status).toBe(202);
    expect(await retracted()).toBe(byJail);
    expect(byJail).toBe(res.body.results[1].eventId);
  });

  it('TRANSFERRED moves the person to the new facility', async () => {
    const moved = await post(jail, {
      person: personWith('MOVE-1'),
      type: 'TRANSFERRED',
      toFacility: { code: 'STATE-PEN', name: 'State Penitentiary' },
    });
    expect(await personOf(moved)).toMatchObject({ custody_status: 'TRANSFERRED', facility: 'STATE-PEN' });
  });

  it('marks events about minors, protected persons and suppressed facilities so nobody is notified', async () => {
    const minorAtEvent = await post(jail, {
      person: personWith('MINOR-1', { dateOfBirth: '2010-06-01' }),
      occurredAt: '2026-01-01T00:00:00Z',
    });
    const adult = await post(jail, { person: personWith('ADULT-1', { dateOfBirth: '1990-06-01' }) });

    const protectedEvent = await post(jail, { person: personWith('PROT-1') });
    const personId = (await personOf(protectedEvent)).id;
    const admin = await t.adminToken();
    const protect = await t
      .http()
      .put(`/v1/admin/people/${personId}/protection`)
      .set('Authorization', `Bearer ${admin}`)
      .send({ protected: true, reason: 'court order' });
    expect(protect.status).toBe(200);
    const afterProtection = await post(jail, { person: personWith('PROT-1'), type: 'RELEASED' });

    const suppress = await t
      .http()
      .put('/v1/admin/facilities/maint-1/suppression')
      .set('Authorization', `Bearer ${admin}`)
      .send({ suppressed: true, reason: 'JMS maintenance' });
    expect(suppress.status).toBe(200);
    expect(suppress.body).toMatchObject({ code: 'MAINT-1', suppressed: true, reason: 'JMS maintenance' });
    const suppressed = await post(jail, { person: personWith('SUPP-1'), facility: { code: 'MAINT-1' }, type: 'RELEASED' });

    const { rows } = await t.db.query(`SELECT id, minor, notification_block FROM custody_event WHERE id = ANY($1)`, [
      [minorAtEvent, adult, afterProtection, suppressed],
    ]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(minorAtEvent)).toMatchObject({ minor: true, notification_block: 'minor' });
    expect(byId.get(adult)).toMatchObject({ minor: false, notification_block: null });
    expect(byId.get(afterProtection)).toMatchObject({ notification_block: 'person_protected' });
    expect(byId.get(suppressed)).toMatchObject({ notification_block: 'facility_suppressed' });
    // Suppression still records and moves the status.
    expect((await personOf(suppressed)).custody_status).toBe('RELEASED');

    await t
      .http()
      .put('/v1/admin/facilities/MAINT-1/suppression')
      .set('Authorization', `Bearer ${admin}`)
      .send({ suppressed: false, reason: 'done' });
    const after = await post(jail, { person: personWith('SUPP-2'), facility: { code: 'MAINT-1' } });
    expect((await t.db.query(`SELECT notification_block FROM custody_event WHERE id = $1`, [after])).rows[0].notification_block).toBeNull();
  });

  it('protection and suppression are admin-only, and validated', async () => {
    const specialist = await t.staffToken('specialist');
    expect(
      (
        await t
          .http()
          .put('/v1/admin/facilities/X/suppression')
          .set('Authorization', `Bearer ${specialist}`)
          .send({ suppressed: true, reason: 'x' })
      ).status,
    ).toBe(403);
    const admin = await t.adminToken();
    expect(
      (await t.http().put('/v1/admin/facilities/X/suppression').set('Authorization', `Bearer ${admin}`).send({ suppressed: 'yes' })).status,
    ).toBe(422);
    const missing = await t
      .http()
      .put('/v1/admin/people/00000000-0000-4000-8000-000000000000/protection')
      .set('Authorization', `Bearer ${admin}`)
      .send({ protected: true, reason: 'x' });
    expect(missing.status).toBe(404);
  });
});
