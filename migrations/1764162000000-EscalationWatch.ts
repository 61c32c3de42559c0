import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Escalation watches events, not notifications. An event that planned urgent notifications gets one
 * watch; once, when it is due, every urgent notification of that event with no contact confirmed or
 * delivered escalates, and the watch is closed. The partial index on notification it replaces took an
 * entry for every urgent notification (100,000 for a crowded release) and kept the delivered ones
 * for good, so each check went over all of them again.
 */
export class EscalationWatch1764162000000 implements MigrationInterface {
  name = 'EscalationWatch1764162000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE escalation_watch (
        event_id uuid PRIMARY KEY REFERENCES custody_event (id),
        planned_at timestamptz NOT NULL,
        checked_at timestamptz
      )`);
    await db.query(`CREATE INDEX escalation_watch_due_idx ON escalation_watch (planned_at) WHERE checked_at IS NULL`);
    await db.query(`
      INSERT INTO escalation_watch (event_id, planned_at)
      SELECT event_id, min(created_at) FROM notification WHERE urgent AND escalated_at IS NULL GROUP BY event_id`);
    await db.query(`DROP INDEX notification_escalation_idx`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX notification_escalation_idx ON notification (created_at) WHERE urgent AND escalated_at IS NULL`);
    await db.query(`DROP TABLE escalation_watch`);
  }
}
