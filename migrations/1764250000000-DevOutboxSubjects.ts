import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Dev outbox subjects are stored encrypted from now on: an alert's subject names the person. The
 * ones stored in clear before are dropped (the body, encrypted, still holds the message).
 */
export class DevOutboxSubjects1764250000000 implements MigrationInterface {
  name = 'DevOutboxSubjects1764250000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`UPDATE dev_outbox SET subject = NULL WHERE subject IS NOT NULL`);
  }

  async down(): Promise<void> {
    // Nothing to restore: the clear subjects are gone, and encrypted ones read as they are.
  }
}
