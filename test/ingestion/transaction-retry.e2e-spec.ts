import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retryingTransaction, TRANSACTION_ATTEMPTS } from '../../src/database/retrying-transaction.js';
import { lockWaiters } from '../support/lock-waiters.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('transactions that lose a deadlock or a serialization conflict', () => {
  let t: TestApp;
  let source: TestSource;

  beforeAll(async () => {
    t = await startTestApp();
    source = await createSource(t);
  });
  afterAll(() => t.close());

  it('#11.3 deadlock retried: an ingestion transaction chosen as the deadlock victim runs again, answers 202 and records the event once', async () => {
    const booked = await postEvents(
      t,
      source,
      event({ person: personWith('DEADLOCK1'), facility: { code: 'DL-1', name: 'Deadlock Jail' } }),
    );
    expect(booked.status, booked.text).toBe(202);
    const {
      rows: [{ person_id: personId, facility_id: facilityId }],
    } = await t.db.query(`SELECT person_id, facility_id FROM custody_event WHERE id = $1`, [booked.body.results[0].eventId]);

    // A second connection holds the person, then asks for the facility the ingestion holds: opposite orders.
    const other = await t.db.connect();
    try {
      await other.query('BEGIN');
      await other.query(`SELECT 1 FROM person WHERE id = $1 FOR UPDATE`, [personId]);
      // Renaming the facility locks its row first; the person comes later in the same transaction.
      const released = event({ type: 'RELEASED', person: personWith('DEADLOCK1'), facility: { code: 'DL-1', name: 'Renamed Jail' } });
      const answer = postEvents(t, source, released).then((res) => res);
      await lockWaiters(t.db, 1);
      // Waits for the ingestion, which waits for us: PostgreSQL aborts the one that waited first (the ingestion).
      await other.query(`UPDATE facility SET name = 'Held' WHERE id = $1`, [facilityId]);
      await other.query('ROLLBACK');

      const res = await answer;
      expect(res.status, res.text).toBe(202);
      expect(res.body.results[0]).toMatchObject({ status: 'accepted' });
      const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM custody_event WHERE source_event_id = $1`, [
        released.sourceEventId,
      ]);
      expect(rows[0].n).toBe(1);
      const facility = await t.db.query(`SELECT name FROM facility WHERE id = $1`, [facilityId]);
      expect(facility.rows[0].name).toBe('Renamed Jail');
      expect(t.logs.some((line) => line.includes('40P01'))).toBe(true);
    } finally {
      other.release();
    }
  });

  it('#11.3 deadlock retried: a serialization failure (40001) runs the transaction again; any other error reaches the caller unchanged, run once', async () => {
    const db = t.app.get(DataSource);
    let runs = 0;
    const answer = await retryingTransaction(db, async (tx) => {
      runs++;
      if (runs === 1) await tx.query(`DO $$ BEGIN RAISE EXCEPTION 'lost' USING ERRCODE = '40001'; END $$`);
      return 'done';
    });
    expect({ answer, runs }).toEqual({ answer: 'done', runs: 2 });

    runs = 0;
    const refused = retryingTransaction(db, async (tx) => {
      runs++;
      await tx.query(`SELECT 1 / 0`);
    });
    await expect(refused).rejects.toMatchObject({ driverError: { code: '22012' } });
    expect(runs).toBe(1);

    runs = 0;
    const always = retryingTransaction(db, async (tx) => {
      runs++;
      await tx.query(`DO $$ BEGIN RAISE EXCEPTION 'lost' USING ERRCODE = '40P01'; END $$`);
    });
    await expect(always).rejects.toMatchObject({ driverError: { code: '40P01' } });
    expect(runs).toBe(TRANSACTION_ATTEMPTS);
  });
});
