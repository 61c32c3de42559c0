import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Messages staff send a victim outside any custody event (the confirmation of an enrolment, a
 * service from the directory) go through the ledger like alerts: a notification with no event, its
 * deliveries and their attempts. What a shared service said is kept with it (`message`), so the
 * ledger proves what the victim was sent even after the directory entry changes.
 */
/** The statement-level stand-in for the notification's foreign keys (DeliveryThroughput); `event` is its event clause. */
function referencesCheck(event: string): string {
  return `
    CREATE OR REPLACE FUNCTION notification_references_check() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM new_rows n
                 WHERE ${event}
                    OR NOT EXISTS (SELECT 1 FROM registration r WHERE r.id = n.registration_id)) THEN
        RAISE EXCEPTION 'notification refers to a missing event or registration' USING ERRCODE = 'foreign_key_violation';
      END IF;
      RETURN NULL;
    END $$`;
}

export class VictimMessages1765150000000 implements MigrationInterface {
  name = 'VictimMessages1765150000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE notification ALTER COLUMN event_id DROP NOT NULL`);
    await db.query(`ALTER TABLE notification DROP CONSTRAINT notification_kind_check`);
    await db.query(`ALTER TABLE notification ADD COLUMN message jsonb`);
    await db.query(`ALTER TABLE notification ADD COLUMN sent_by uuid REFERENCES staff (id)`);
    await db.query(
      `ALTER TABLE notification ADD CONSTRAINT notification_kind_check CHECK (kind IN ('alert', 'correction', 'enrolled', 'service'))`,
    );
    await db.query(
      `ALTER TABLE notification ADD CONSTRAINT notification_event_kind_check CHECK ((event_id IS NULL) = (kind IN ('enrolled', 'service')))`,
    );
    await db.query(referencesCheck(`(n.event_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM custody_event e WHERE e.id = n.event_id))`));
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(referencesCheck(`NOT EXISTS (SELECT 1 FROM custody_event e WHERE e.id = n.event_id)`));
    await db.query(`ALTER TABLE notification DROP CONSTRAINT notification_event_kind_check`);
    await db.query(`ALTER TABLE notification DROP CONSTRAINT notification_kind_check`);
    await db.query(`ALTER TABLE notification ADD CONSTRAINT notification_kind_check CHECK (kind IN ('alert', 'correction'))`);
    await db.query(`ALTER TABLE notification DROP COLUMN sent_by`);
    await db.query(`ALTER TABLE notification DROP COLUMN message`);
    await db.query(`ALTER TABLE notification ALTER COLUMN event_id SET NOT NULL`);
  }
}
