import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every alert links to the victim's manage page with the registration's manage token in it, so the
 * token must be readable when an alert is rendered: it is kept sealed (AES-256-GCM, bound to its row)
 * beside its hash, which stays the one the API and the pages check. Registrations made before this
 * have only the hash; their alerts link to the help page instead.
 */
export class ManageTokens1765100000000 implements MigrationInterface {
  name = 'ManageTokens1765100000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE registration ADD COLUMN manage_token text`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE registration DROP COLUMN manage_token`);
  }
}
