import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Why staff stopped a victim's alerts tells that victim's circumstances. It was kept as plain text in
 * the audit log, which every admin reads and a key rotation cannot reach; it now lives on the
 * registration, sealed (AES-256-GCM, bound to the row), and the audit entry only says a reason was
 * given. Reasons already in the audit log stay there (it is append-only) and are still shown.
 */
export class SealedStopReason1765600000000 implements MigrationInterface {
  name = 'SealedStopReason1765600000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE registration ADD COLUMN stop_reason text`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE registration DROP COLUMN stop_reason`);
  }
}
