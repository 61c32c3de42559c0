import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A password reset must end the sessions opened with the old password: each staff token carries
 * the account's session generation, and a reset moves it on.
 *
 * The audit-log viewer reads newest first in keyset pages, optionally for one action or one actor:
 * each of those reads walks one of these indexes backwards from the cursor. (at, id) makes the
 * order total, so a page boundary between entries written in the same microsecond loses nothing;
 * it also serves every range read the old (at) index served, which is dropped. The action index
 * also lists the known actions by a skip scan instead of reading the whole log.
 */
export class StaffSessionsAuditPages1765300000000 implements MigrationInterface {
  name = 'StaffSessionsAuditPages1765300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE staff ADD COLUMN session_generation integer NOT NULL DEFAULT 0`);
    await db.query(`CREATE INDEX audit_log_at_id_idx ON audit_log (at, id)`);
    await db.query(`CREATE INDEX audit_log_action_at_idx ON audit_log (action, at, id)`);
    await db.query(`CREATE INDEX audit_log_actor_at_idx ON audit_log (actor_staff_id, at, id)`);
    await db.query(`DROP INDEX audit_log_at_idx`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX audit_log_at_idx ON audit_log (at)`);
    await db.query(`DROP INDEX audit_log_actor_at_idx`);
    await db.query(`DROP INDEX audit_log_action_at_idx`);
    await db.query(`DROP INDEX audit_log_at_id_idx`);
    await db.query(`ALTER TABLE staff DROP COLUMN session_generation`);
  }
}
