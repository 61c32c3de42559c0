import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A CORRECTION may arrive before the event it retracts (a feed that sends both at once, or out of
 * order). It is kept waiting for that event (corrects_event_id still empty), and every event
 * recorded is looked up here: the index holds only the corrections still waiting, usually none.
 */
export class PendingCorrections1764213000000 implements MigrationInterface {
  name = 'PendingCorrections1764213000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE INDEX custody_event_pending_correction_idx ON custody_event (source_id, (details ->> 'correctsSourceEventId'))
       WHERE type = 'CORRECTION' AND corrects_event_id IS NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX custody_event_pending_correction_idx`);
  }
}
