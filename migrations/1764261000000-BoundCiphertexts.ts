import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ciphertexts are now bound to their row and column (AES-GCM associated data, format v2). SQL has
 * no key, so this migration only records the work: the first process that starts after it
 * re-encrypts every legacy (v1) value under the migration lock, right after the migrations
 * (`upgradeCiphertexts`), and `npm run keys:rotate` does the same. From then on v1 is refused.
 */
export class BoundCiphertexts1764261000000 implements MigrationInterface {
  name = 'BoundCiphertexts1764261000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE data_upgrade (name text PRIMARY KEY, done_at timestamptz)`);
    await db.query(`INSERT INTO data_upgrade (name) VALUES ('ciphertexts-v2')`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE data_upgrade`);
  }
}
