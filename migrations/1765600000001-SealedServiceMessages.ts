import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A shared service's copy links a victim's registration to, say, a shelter or an immigration-relief
 * clinic: it is now sealed (AES-256-GCM, bound to the notification) in `message_sealed`, and the
 * plain `message` keeps only the service's kind, which the program report counts. Copies written
 * before stay plain in `message` and are still read from there.
 */
export class SealedServiceMessages1765600000001 implements MigrationInterface {
  name = 'SealedServiceMessages1765600000001';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE notification ADD COLUMN message_sealed text`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE notification DROP COLUMN message_sealed`);
  }
}
