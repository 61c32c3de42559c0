import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('POST /v1/custody-events', () => {
  let t: TestApp;
  let source: TestSource;
  beforeAll(async () => {
    t = await startTestApp();
    source = await createSource(t);
  });
  afterAll(() => t.close());

  const count = async (sql: string, params: unknown[] = []) => (await t.db.query(sql, params)).rows[0].n as number;

  it('accepts one event, keeps its raw payload, creates the person and facility, and updates the status', async () => {
    const body = event({ occurredAt: '2026-11-20T10:00:00-06:00', extraUpstreamField: undefined });
    const res = await postEvents(t, source, body);
    expect(res.status).toBe(202);
    expect(res.body.results).toEqual([
      { sourceEventId: body.sourceEventId, eventId: expect.any(String), status: 'accepted', notificationsPlanned: 0 },
    ]);
    const { rows } = await t.db.query(
      `SELECT e.payload, e.type, e.occurred_at, p.custody_status, p.status_as_of, f.code
       FROM custody_event e JOIN person p ON p.id = e.person_id JOIN facility f ON f.id = p.facility_id WHERE e.id = $1`,
      [res.body.results[0].eventId],
    );
    expect(rows[0].payload).toEqual(JSON.parse(JSON.stringify(body)));
    expect(rows[0]).toMatchObject({ type: 'BOOKED', custody_status: 'IN_CUSTODY', code: 'HCJ-1' });
    expect(rows[0].status_as_of.toISOString()).toBe('2026-11-20T16:00:00.000Z');
  });

  it('reports a replay with the same body as duplicate, and the same id with another body as 409', async () => {
    const body = event();
    const first = await postEvents(t, source, body);
    const again = await postEvents(t, source, { ...body });
    expect(again.status).toBe(202);
    expect(again.body.results[0]).toMatchObject({ status: 'duplicate', eventId: first.body.results[0].eventId, notificationsPlanned: 0 });
    // Key order does not make a body different.
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    expect((await postEvents(t, source, reordered)).body.results[0].status).toBe('duplicate');

    const conflict = await postEvents(t, source, { ...body, type: 'RELEASED' });
    expect(conflict.status).toBe(409);
    expect(conflict.headers['content-type']).toMatch(/problem\+json/);
    expect(await count(`SELECT count(*)::int AS n FROM custody_event WHERE source_event_id = $1`, [body.sourceEventId])).toBe(1);
  });

  it('reports duplicates and conflicts per item in a batch, including repeats inside the batch', async () => {
    const known = event();
    await postEvents(t, source, known);
    const fresh = event();
    const res = await postEvents(t, source, {
      events: [known, { ...known, type: 'ESCAPED' }, fresh, fresh, { ...fresh, type: 'RELEASED' }],
    });
    expect(res.status).toBe(202);
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual([
      'duplicate',
      'conflict',
      'accepted',
      'duplicate',
      'conflict',
    ]);
    expect(res.body.results[3].eventId).toBe(res.body.results[2].eventId);
  });

  it('records exactly one of 20 identical events posted at once', async () => {
    const body = event({ person: personWith('RACE-0001') });
    const responses = await Promise.all(Array.from({ length: 20 }, () => postEvents(t, source, body)));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(202));
    const statuses = responses.map((r) => r.body.results[0].status);
    expect(statuses.filter((s) => s === 'accepted')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'duplicate')).toHaveLength(19);
    expect(new Set(responses.map((r) => r.body.results[0].eventId)).size).toBe(1);
    expect(await count(`SELECT count(*)::int AS n FROM custody_event WHERE source_event_id = $1`, [body.sourceEventId])).toBe(1);
    expect(await count(`SELECT count(*)::int AS n FROM person_identifier WHERE value = 'RACE0001'`)).toBe(1);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM person p WHERE first_name = 'John' AND NOT EXISTS (SELECT 1 FROM person_identifier i WHERE i.person_id = p.id)`,
      ),
    ).toBe(0);
  });

  it('different events about one new person, posted at once, resolve to one person', async () => {
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, i) => postEvents(t, source, event({ person: personWith('SAME-NEW-1', { firstName: `Try${i}` }) }))),
    );
    expect(responses.map((r) => r.body.results?.[0]?.status)).toEqual(Array(12).fill('accepted'));
    const { rows } = await t.db.query(`SELECT DISTINCT e.person_id FROM custody_event e WHERE e.id = ANY($1::uuid[])`, [
      responses.map((r) => r.body.results[0].eventId),
    ]);
    expect(rows).toHaveLength(1);
    expect(await count(`SELECT count(*)::int AS n FROM person_identifier WHERE value = 'SAMENEW1'`)).toBe(1);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM person p WHERE NOT EXISTS (SELECT 1 FROM person_identifier i WHERE i.person_id = p.id) AND merged_into IS NULL`,
      ),
    ).toBe(0);
  });

  it('a burst from one source shares transactions, yet a bad request or a replayed webhook fails alone', async () => {
    const signed = event();
    const webhookId = `msg_${randomUUID()}`;
    expect((await postEvents(t, source, signed, { sign: true, webhookId })).status).toBe(202);
    const good = Array.from({ length: 16 }, () => event());
    // A correction may wait for an event that has not come yet, but a correction is never corrected.
    const earlier = event({ type: 'CORRECTION', details: { correctsSourceEventId: `not-yet-${randomUUID()}` } });
    expect((await postEvents(t, source, earlier)).status).toBe(202);
    const orphanCorrection = event({ type: 'CORRECTION', details: { correctsSourceEventId: earlier.sourceEventId } });
    const replay = event();
    const responses = await Promise.all([
      ...good.slice(0, 8).map((body) => postEvents(t, source, body)),
      postEvents(t, source, orphanCorrection),
      postEvents(t, source, replay, { sign: true, webhookId }),
      ...good.slice(8).map((body) => postEvents(t, source, body)),
    ]);
    expect(responses.map((r) => r.status)).toEqual([...Array(8).fill(202), 422, 401, ...Array(8).fill(202)]);
    expect(responses[8].body.errors).toEqual([{ path: 'details.correctsSourceEventId', message: expect.any(String) }]);
    expect(responses[9].body.code).toBe('WEBHOOK_REPLAYED');
    expect(
      await count(`SELECT count(*)::int AS n FROM custody_event WHERE source_event_id = ANY($1)`, [good.map((e) => e.sourceEventId)]),
    ).toBe(16);
    expect(
      await count(`SELECT count(*)::int AS n FROM custody_event WHERE source_event_id = ANY($1)`, [
        [orphanCorrection.sourceEventId, replay.sourceEventId],
      ]),
    ).toBe(0);
  });

  it('refuses a whole batch with one bad item, naming the path, and stores nothing', async () => {
    const before = await count(`SELECT count(*)::int AS n FROM custody_event`);
    const good = event();
    const bad = event({ person: { identifiers: [{ system: 'A_NUMBER', value: 'X1' }], firstName: 'Ann', lastName: '' } });
    const res = await postEvents(t, source, { events: [good, event(), bad] });
    expect(res.status).toBe(422);
    expect(res.body.errors).toContainEqual({ path: 'events[2].person.lastName', message: expect.any(String) });
    expect(await count(`SELECT count(*)::int AS n FROM custody_event`)).toBe(before);
    expect(await count(`SELECT count(*)::int AS n FROM person_identifier WHERE value = 'X1'`)).toBe(0);
  });

  it.each([
    ['an unknown type', { type: 'PAROLED' }, 'type'],
    ['a time without offset', { occurredAt: '2026-11-20T10:00:00' }, 'occurredAt'],
    ['an invalid date', { occurredAt: '2026-02-31T10:00:00Z' }, 'occurredAt'],
    [
      'a lower-case identifier system',
      { person: { identifiers: [{ system: 'a_number', value: '1' }], firstName: 'A', lastName: 'B' } },
      'person.identifiers[0].system',
    ],
    ['an identifier value over 64 characters', { person: personWith('9'.repeat(65)) }, 'person.identifiers[0].value'],
    ['no identifiers', { person: { identifiers: [], firstName: 'A', lastName: 'B' } }, 'person.identifiers'],
    ['a name over 100 characters', { person: personWith('N1', { firstName: 'x'.repeat(101) }) }, 'person.firstName'],
    ['a future date of birth', { person: personWith('D1', { dateOfBirth: '2999-01-01' }) }, 'person.dateOfBirth'],
    ['a malformed date of birth', { person: personWith('D2', { dateOfBirth: '1990-13-01' }) }, 'person.dateOfBirth'],
    ['TRANSFERRED without toFacility', { type: 'TRANSFERRED' }, 'toFacility'],
    ['RELEASE_SCHEDULED without scheduledFor', { type: 'RELEASE_SCHEDULED' }, 'scheduledFor'],
    ['HEARING_SCHEDULED with a bad scheduledFor', { type: 'HEARING_SCHEDULED', scheduledFor: 'tomorrow' }, 'scheduledFor'],
    ['CORRECTION without correctsSourceEventId', { type: 'CORRECTION', details: { note: 'x' } }, 'details'],
    ['a missing facility', { facility: undefined }, 'facility'],
    ['a facility code with spaces', { facility: { code: 'A B' } }, 'facility.code'],
    ['an event in the future', { occurredAt: new Date(Date.now() + 3_600_000).toISOString() }, 'occurredAt'],
  ])('422 for %s', async (_, overrides, path) => {
    const res = await postEvents(t, source, event(overrides));
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it('keeps fields vendors add to an event and its person in the raw payload, and ignores them otherwise (DESIGN)', async () => {
    const extra = event({ colour: 'red', person: personWith('VENDOR-1', { eyeColour: 'brown' }), facility: { code: 'HCJ-1', wing: 'B' } });
    const res = await postEvents(t, source, extra);
    expect(res.status, res.text).toBe(202);
    const { rows } = await t.db.query(`SELECT payload FROM custody_event WHERE id = $1`, [res.body.results[0].eventId]);
    expect(rows[0].payload).toMatchObject({ colour: 'red', person: { eyeColour: 'brown' }, facility: { wing: 'B' } });
    expect((await postEvents(t, source, { events: [event()], colour: 'red' })).status).toBe(422);
  });

  it('422 for an empty batch, more than 1,000 events, or a body that is not an event', async () => {
    expect((await postEvents(t, source, { events: [] })).status).toBe(422);
    const big = await postEvents(t, source, { events: Array.from({ length: 1001 }, () => event()) });
    expect(big.status).toBe(422);
    expect(big.body.errors[0].path).toBe('events');
    expect((await postEvents(t, source, '[1,2]')).status).toBe(422);
    expect((await postEvents(t, source, '"text"')).status).toBeGreaterThanOrEqual(400);
  });

  it('413 above 5 MB, 400 for malformed JSON', async () => {
    const huge = await postEvents(t, source, { events: [event({ details: { blob: 'x'.repeat(5.5 * 1024 * 1024) } })] });
    expect(huge.status).toBe(413);
    expect((await postEvents(t, source, '{"events": [')).status).toBe(400);
  });

  it('accepts 1,000 events in one batch', async () => {
    const events = Array.from({ length: 1000 }, () => event());
    const res = await postEvents(t, source, { events });
    expect(res.status).toBe(202);
    expect(res.body.results).toHaveLength(1000);
    expect(res.body.results.every((r: { status: string }) => r.status === 'accepted')).toBe(true);
  });

  it('records contact for the source and the facility', async () => {
    const fresh = await createSource(t);
    await postEvents(t, fresh, event({ facility: { code: 'CONTACT-1' } }));
    const feeds = await t
      .http()
      .get('/v1/admin/feeds')
      .set('Authorization', `Bearer ${await t.adminToken()}`);
    const feed = feeds.body.find((f: { sourceId: string }) => f.sourceId === fresh.sourceId);
    expect(feed.lastContactAt).not.toBeNull();
    expect(feed.facilities.map((f: { code: string }) => f.code)).toEqual(['CONTACT-1']);
  });
});
