import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A held roster diff is approved later, after merges may have joined a record it would release to
 * one the roster still names: the person is there, under the other record's identifiers. A held
 * snapshot keeps who it found unchanged, so the approval can tell. Snapshots held before this know
 * only whom they would book, and are judged by that.
 */
export class HeldRosterUnchanged1764270000000 implements MigrationInterface {
  name = 'HeldRosterUnchanged1764270000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE roster_snapshot ADD COLUMN unchanged_person_ids uuid[] NOT NULL DEFAULT '{}'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE roster_snapshot DROP COLUMN unchanged_person_ids`);
  }
}
