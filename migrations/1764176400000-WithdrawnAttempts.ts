import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An attempt can end "withdrawn": consent ended, or the person became protected, after its batch
 * was loaded and before its provider call, so the worker did not call the provider. The ledger
 * keeps the attempt, as it keeps every other.
 */
export class WithdrawnAttempts1764176400000 implements MigrationInterface {
  name = 'WithdrawnAttempts1764176400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE delivery_attempt DROP CONSTRAINT delivery_attempt_outcome_check`);
    await db.query(
      `ALTER TABLE delivery_attempt ADD CONSTRAINT delivery_attempt_outcome_check
         CHECK (outcome IN ('accepted', 'transient_error', 'permanent_error', 'withdrawn'))`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE delivery_attempt DROP CONSTRAINT delivery_attempt_outcome_check`);
    await db.query(
      `ALTER TABLE delivery_attempt ADD CONSTRAINT delivery_attempt_outcome_check
         CHECK (outcome IN ('accepted', 'transient_error', 'permanent_error'))`,
    );
  }
}
