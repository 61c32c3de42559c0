import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A STOP was kept only as the number's blind index, which a key rotation cannot recompute without
 * the number: STOPs of numbers with no contact were lost with the old key. Each opt-out now also
 * keeps the number, encrypted, and the id of the key that made its index. Rows written before
 * have neither; a rotation carries them through a contact with that number, as before.
 */
export class OptOutNumbers1764262000000 implements MigrationInterface {
  name = 'OptOutNumbers1764262000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE phone_opt_out ADD COLUMN phone text, ADD COLUMN key_id text`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE phone_opt_out DROP COLUMN phone, DROP COLUMN key_id`);
  }
}
