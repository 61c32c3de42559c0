import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/database/queryable.js';
import { settleWebhooks } from '../../src/sources/webhook-replay.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

// A group of events is recorded, and its persons' status moved, by one statement: these pin the
// rules that statement carries for several events about one person in one transaction.
describe('#12 status of a person with several events in one group', () => {
  let t: TestApp;
  let source: TestSource;
  beforeAll(async () => {
    t = await startTestApp();
    source = await createSource(t);
  });
  afterAll(() => t.close());

  const post = async (body: unknown) => {
    const res = await postEvents(t, source, body);
    expect(res.status, res.text).toBe(202);
    return res.body.results as { sourceEventId: string; eventId: string; status: string }[];
  };
  const personOf = async (eventId: string) =>
    (
      await t.db.query(
        `SELECT p.id, p.custody_status, p.status_as_of, p.status_event_id, f.code AS facility
         FROM custody_event e JOIN person p ON p.id = e.person_id LEFT JOIN facility f ON f.id = p.facility_id WHERE e.id = $1`,
        [eventId],
      )
    ).rows[0];

  it('#12 two events about one new person in one batch: one person, and the newer event sets the status whatever its place', async () => {
    const person = personWith('GROUP-NEW-1');
    const results = await post({
      events: [
        event({ person, type: 'RELEASED', occurredAt: '2026-11-12T12:00:00Z', facility: { code: 'GRP-A' } }),
        event({ person, type: 'BOOKED', occurredAt: '2026-11-10T12:00:00Z', facility: { code: 'GRP-B' } }),
        // Newer still, but a scheduling event moves no status.
        event({ person, type: 'RELEASE_SCHEDULED', occurredAt: '2026-11-13T12:00:00Z', scheduledFor: '2026-12-01T09:00:00Z' }),
      ],
    });
    expect(results.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);
    const [released, booked, scheduled] = await Promise.all(results.map((r) => personOf(r.eventId)));
    expect(new Set([released.id, booked.id, scheduled.id]).size).toBe(1);
    expect(released).toMatchObject({ custody_status: 'RELEASED', status_event_id: results[0].eventId, facility: 'GRP-A' });
    expect(released.status_as_of.toISOString()).toBe('2026-11-12T12:00:00.000Z');
  });

  it('#12 of two events about one person at the same time in one batch, the later one sets the status; a transfer moves to its destination', async () => {
    const person = personWith('GROUP-TIE-1');
    const at = '2026-11-14T08:00:00Z';
    const results = await post({
      events: [
        event({ person, type: 'ESCAPED', occurredAt: at }),
        event({ person, type: 'TRANSFERRED', occurredAt: at, toFacility: { code: 'GRP-DEST' } }),
      ],
    });
    expect(await personOf(results[0].eventId)).toMatchObject({
      custody_status: 'TRANSFERRED',
      status_event_id: results[1].eventId,
      facility: 'GRP-DEST',
    });

    const again = await post({
      events: [
        event({ person, type: 'RETURNED_TO_CUSTODY', occurredAt: '2026-11-15T08:00:00Z' }),
        event({ person, type: 'ESCAPED', occurredAt: '2026-11-15T08:00:00Z' }),
      ],
    });
    expect(await personOf(again[0].eventId)).toMatchObject({ custody_status: 'ESCAPED', status_event_id: again[1].eventId });
  });

  it('#12 an event older than the status it finds moves nothing, even beside newer events about other persons', async () => {
    const person = personWith('GROUP-LATE-1');
    const [first] = await post(event({ person, type: 'RELEASED', occurredAt: '2026-11-16T12:00:00Z' }));
    const other = personWith('GROUP-LATE-2');
    const results = await post({
      events: [
        event({ person, type: 'BOOKED', occurredAt: '2026-11-15T12:00:00Z' }),
        event({ person: other, occurredAt: '2026-11-17T12:00:00Z' }),
      ],
    });
    expect(await personOf(results[0].eventId)).toMatchObject({ custody_status: 'RELEASED', status_event_id: first.eventId });
    expect(await personOf(results[1].eventId)).toMatchObject({ custody_status: 'IN_CUSTODY', status_event_id: results[1].eventId });
  });

  it('#12 a repeated sourceEventId inside one batch: the conflicting repeat moves no status', async () => {
    const person = personWith('GROUP-DUP-1');
    const first = event({ person, type: 'BOOKED', occurredAt: '2026-11-18T12:00:00Z' });
    const results = await post({ events: [first, { ...first, type: 'RELEASED', occurredAt: '2026-11-19T12:00:00Z' }] });
    expect(results.map((r) => r.status)).toEqual(['accepted', 'conflict']);
    expect(await personOf(results[0].eventId)).toMatchObject({ custody_status: 'IN_CUSTODY', status_event_id: results[0].eventId });
  });

  it('#12 an event and its CORRECTION in one batch: the status is as if the event had never come', async () => {
    const person = personWith('GROUP-CORR-1');
    const [booked] = await post(event({ person, type: 'BOOKED', occurredAt: '2026-11-20T08:00:00Z' }));
    const wrong = event({ person, type: 'RELEASED', occurredAt: '2026-11-20T10:00:00Z' });
    const results = await post({
      events: [wrong, event({ person, type: 'CORRECTION', details: { correctsSourceEventId: wrong.sourceEventId } })],
    });
    expect(results.map((r) => r.status)).toEqual(['accepted', 'accepted']);
    expect(await personOf(booked.eventId)).toMatchObject({ custody_status: 'IN_CUSTODY', status_event_id: booked.eventId });
  });

  it('#12 an event whose CORRECTION came first moves no status, while an older event about the same person in its batch does', async () => {
    const person = personWith('GROUP-CORR-2');
    const wrong = event({ person, type: 'RELEASED', occurredAt: '2026-11-21T10:00:00Z' });
    const [correction] = await post(event({ type: 'CORRECTION', details: { correctsSourceEventId: wrong.sourceEventId } }));
    const results = await post({ events: [wrong, event({ person, type: 'BOOKED', occurredAt: '2026-11-21T08:00:00Z' })] });
    expect(await personOf(results[0].eventId)).toMatchObject({ custody_status: 'IN_CUSTODY', status_event_id: results[1].eventId });
    const { rows } = await t.db.query(`SELECT retracted_by_event_id FROM custody_event WHERE id = $1`, [results[0].eventId]);
    expect(rows[0].retracted_by_event_id).toBe(correction.eventId);
  });
});

describe('#12 a group reads its webhook-ids, facilities and replays in one statement', () => {
  let t: TestApp;
  let source: TestSource;
  beforeAll(async () => {
    t = await startTestApp();
    source = await createSource(t);
  });
  afterAll(() => t.close());

  /** The statements every pg client in this process sends while `work` runs, that touch one of `tables`. */
  async function statementsTouching(tables: RegExp, work: () => Promise<void>): Promise<string[]> {
    const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
    const query = prototype.query;
    const seen: string[] = [];
    prototype.query = function (this: unknown, ...args: unknown[]) {
      const config = args[0];
      const text = typeof config === 'string' ? config : ((config as { text?: string } | null)?.text ?? '');
      if (tables.test(text)) seen.push(text);
      return query.apply(this, args);
    };
    try {
      await work();
    } finally {
      prototype.query = query;
    }
    return seen;
  }

  it('#12 a signed single event about a known facility sends one statement for all three', async () => {
    const first = await postEvents(t, source, event({ facility: { code: 'ONE-READ' } }), { sign: true });
    expect(first.status, first.text).toBe(202);
    const seen = await statementsTouching(
      /webhook_message|FROM facility (f )?WHERE|FROM custody_event (e )?WHERE (e\.)?source_id/,
      async () => {
        const res = await postEvents(t, source, event({ facility: { code: 'ONE-READ' } }), { sign: true });
        expect(res.status, res.text).toBe(202);
        expect(res.body.results[0].status).toBe('accepted');
      },
    );
    expect(seen, seen.map((text) => text.slice(0, 300)).join('\n---\n')).toHaveLength(1);
  });

  it('#12 a retried webhook-id with its body passes and its event is a duplicate; with another body it is refused', async () => {
    const body = JSON.stringify(event({ facility: { code: 'ONE-READ' } }));
    const webhookId = `msg_${randomUUID()}`;
    expect((await postEvents(t, source, body, { sign: true, webhookId })).status).toBe(202);
    const again = await postEvents(t, source, body, { sign: true, webhookId });
    expect(again.status, again.text).toBe(202);
    expect(again.body.results[0].status).toBe('duplicate');
    const other = await postEvents(t, source, event({ facility: { code: 'ONE-READ' } }), { sign: true, webhookId });
    expect(other.status).toBe(401);
    expect(other.body.code).toBe('WEBHOOK_REPLAYED');
  });

  it('#12 an id a concurrent request committed after the group read its webhook rows is read again before it is judged', async () => {
    const db: Queryable = {
      query: async (sql: unknown, parameters?: unknown[]) => (await t.db.query(sql as string, parameters)).rows as never,
    };
    const webhookId = `msg_${randomUUID()}`;
    const hash = createHash('sha256').update('a body').digest();
    await t.db.query(`INSERT INTO webhook_message (source_id, webhook_id, received_at, body_hash) VALUES ($1, $2, now(), $3)`, [
      source.sourceId,
      webhookId,
      hash,
    ]);
    // Not inserted by this group, and not among the rows its snapshot saw.
    await expect(settleWebhooks(db, source.sourceId, new Map([[webhookId, hash]]), [], [])).resolves.toBeUndefined();
    const otherHash = createHash('sha256').update('another body').digest();
    await expect(settleWebhooks(db, source.sourceId, new Map([[webhookId, otherHash]]), [], [])).rejects.toMatchObject({
      code: 'WEBHOOK_REPLAYED',
    });
  });
});
