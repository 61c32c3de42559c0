import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Delivery1764147600000 implements MigrationInterface {
  name = 'Delivery1764147600000';

  async up(db: QueryRunner): Promise<void> {
    // Where email, SMS and calls go when no provider is configured: stored (recipient encrypted), never dropped.
    await db.query(`
      CREATE TABLE dev_outbox (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        delivery_id uuid REFERENCES delivery (id),
        channel text NOT NULL,
        recipient text NOT NULL,
        subject text,
        body text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX dev_outbox_created_idx ON dev_outbox (created_at)`);
    await db.query(`CREATE INDEX delivery_attempt_delivery_idx ON delivery_attempt (delivery_id, attempt_no)`);
    // Urgent phone alerts call again until the PIN is entered, up to this time.
    await db.query(`ALTER TABLE delivery ADD COLUMN repeat_until timestamptz`);
    await db.query(`CREATE INDEX notification_escalation_idx ON notification (created_at) WHERE urgent AND escalated_at IS NULL`);
    await db.query(
      `CREATE INDEX delivery_repeat_idx ON delivery (due_at) WHERE repeat_until IS NOT NULL AND status IN ('sent', 'delivered')`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX delivery_repeat_idx`);
    await db.query(`DROP INDEX notification_escalation_idx`);
    await db.query(`ALTER TABLE delivery DROP COLUMN repeat_until`);
    await db.query(`DROP INDEX delivery_attempt_delivery_idx`);
    await db.query(`DROP TABLE dev_outbox`);
  }
}
