import type { MigrationInterface, QueryRunner } from 'typeorm';

export class IngestionReplays1764154800000 implements MigrationInterface {
  name = 'IngestionReplays1764154800000';

  async up(db: QueryRunner): Promise<void> {
    // A sender retrying a signed message reuses its webhook-id with the same body: that is a replay to
    // answer idempotently; the same id with another body is refused. Older rows have no hash.
    await db.query(`ALTER TABLE webhook_message ADD COLUMN body_hash bytea`);
    // Roster snapshots are applied in asOf order per facility; an older one arriving late is refused.
    await db.query(`CREATE INDEX roster_snapshot_facility_as_of_idx ON roster_snapshot (facility_id, as_of DESC)`);
    // A facility whose roster stops arriving is an outage of its own, even while its source reports others.
    await db.query(`ALTER TABLE feed ADD COLUMN stale_since timestamptz`);
    await db.query(`ALTER TABLE feed_alert ADD COLUMN facility_id uuid REFERENCES facility (id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE feed_alert DROP COLUMN facility_id`);
    await db.query(`ALTER TABLE feed DROP COLUMN stale_since`);
    await db.query(`DROP INDEX roster_snapshot_facility_as_of_idx`);
    await db.query(`ALTER TABLE webhook_message DROP COLUMN body_hash`);
  }
}
