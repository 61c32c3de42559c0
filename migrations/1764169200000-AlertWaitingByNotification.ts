import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Planning writes one delivery per contact: 100,000 for a crowded release, each an entry in every
 * index of the table. The index of waiting deliveries by contact (used when consent ends) now keeps
 * only deliveries without a notification (verification codes); waiting alerts are found through
 * their registration's notifications, whose indexes planning writes anyway.
 */
export class AlertWaitingByNotification1764169200000 implements MigrationInterface {
  name = 'AlertWaitingByNotification1764169200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE INDEX delivery_waiting_direct_idx ON delivery (contact_id) WHERE status IN ('pending', 'held') AND notification_id IS NULL`,
    );
    await db.query(`DROP INDEX delivery_waiting_contact_idx`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX delivery_waiting_contact_idx ON delivery (contact_id) WHERE status IN ('pending', 'held')`);
    await db.query(`DROP INDEX delivery_waiting_direct_idx`);
  }
}
