import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The claim's index holds only waiting deliveries. It used to hold those being sent too, so every
 * claim walked past all the batches in hand across the workers (and their dead versions) before it
 * found anything due: a quarter of PostgreSQL's time while dispatching. Expired leases get an index
 * of their own, small because few deliveries are in hand at once. Ledger attempts leave room on
 * their pages, so the finish (one update per attempt) stays on the page and touches no index.
 */
export class ClaimIndexes1764165600000 implements MigrationInterface {
  name = 'ClaimIndexes1764165600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX delivery_waiting_idx ON delivery (due_at) WHERE status IN ('pending', 'held')`);
    await db.query(`CREATE INDEX delivery_lease_idx ON delivery (lease_expires_at) WHERE status = 'sending'`);
    await db.query(`DROP INDEX delivery_due_idx`);
    await db.query(`ALTER TABLE delivery_attempt SET (fillfactor = 50)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE delivery_attempt RESET (fillfactor)`);
    await db.query(`CREATE INDEX delivery_due_idx ON delivery (due_at) WHERE status IN ('pending', 'held', 'sending')`);
    await db.query(`DROP INDEX delivery_lease_idx`);
    await db.query(`DROP INDEX delivery_waiting_idx`);
  }
}
