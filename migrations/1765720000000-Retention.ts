import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retention (RETENTION_DAYS, EVENT_PAYLOAD_RETENTION_DAYS). A registration that ended long enough ago
 * is erased in place: its rows stay for the ledger, emptied of what identifies the victim, and
 * `erased_at` says when. A custody event's raw payload is cleared once old enough; its body hash
 * stays, and `payload_cleared_at` says it went.
 *
 * The append-only tables the erasure must touch (the audit log's details and client address, an
 * attempt's response excerpt) let exactly that through, and only inside a transaction that set
 * `vigil.retention` to 'on' for itself (SET LOCAL): no column the attempts' hash chain covers, no
 * other column, and never a DELETE. Every other writer is refused as before.
 */
export class Retention1765720000000 implements MigrationInterface {
  name = 'Retention1765720000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE registration ADD COLUMN erased_at timestamptz`);
    // The retention sweep's only path in: ended registrations not yet erased, walked by id.
    await db.query(
      `CREATE INDEX registration_retention_idx ON registration (id) WHERE status IN ('stopped', 'expired') AND erased_at IS NULL`,
    );
    // An erased contact's verification codes are found by the contact: few rows, and no other index reaches them.
    await db.query(`CREATE INDEX delivery_verification_contact_idx ON delivery (contact_id) WHERE purpose = 'verification'`);
    await db.query(`ALTER TABLE custody_event ADD COLUMN payload_cleared_at timestamptz`);
    // Events whose payload is still kept, oldest first: what the payload sweep reads, and nothing it already cleared.
    await db.query(`CREATE INDEX custody_event_payload_kept_idx ON custody_event (received_at) WHERE payload_cleared_at IS NULL`);

    await db.query(`
      CREATE FUNCTION audit_log_retention_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' AND current_setting('vigil.retention', true) = 'on'
           AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.actor_staff_id IS NOT DISTINCT FROM OLD.actor_staff_id
           AND NEW.actor_role IS NOT DISTINCT FROM OLD.actor_role AND NEW.action = OLD.action AND NEW.target_type = OLD.target_type
           AND NEW.target_id IS NOT DISTINCT FROM OLD.target_id
           AND (NEW.client_address IS NULL OR NEW.client_address = OLD.client_address)
           -- Any session can set the flag: the one change to details it admits is dropping the reason.
           AND NEW.details IS NOT DISTINCT FROM (OLD.details - 'reason') THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await db.query(`DROP TRIGGER audit_log_append_only ON audit_log`);
    await db.query(
      `CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_retention_only()`,
    );

    await db.query(`
      CREATE OR REPLACE FUNCTION attempt_finish_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' AND OLD.outcome IS NOT NULL AND current_setting('vigil.retention', true) = 'on'
           AND NEW.response_excerpt IS NULL
           AND (NEW.id, NEW.delivery_id, NEW.attempt_no, NEW.started_at, NEW.finished_at, NEW.provider, NEW.provider_message_id,
                NEW.outcome, NEW.error_code, NEW.error_class, NEW.prev_hash, NEW.hash)
               IS NOT DISTINCT FROM
               (OLD.id, OLD.delivery_id, OLD.attempt_no, OLD.started_at, OLD.finished_at, OLD.provider, OLD.provider_message_id,
                OLD.outcome, OLD.error_code, OLD.error_class, OLD.prev_hash, OLD.hash) THEN
          RETURN NEW;
        END IF;
        IF TG_OP = 'DELETE' OR OLD.outcome IS NOT NULL
           OR NEW.delivery_id <> OLD.delivery_id OR NEW.attempt_no <> OLD.attempt_no OR NEW.started_at <> OLD.started_at
           OR NEW.provider <> OLD.provider OR NEW.prev_hash IS DISTINCT FROM OLD.prev_hash THEN
          RAISE EXCEPTION 'delivery attempts are append-only' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $$`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE OR REPLACE FUNCTION attempt_finish_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' OR OLD.outcome IS NOT NULL
           OR NEW.delivery_id <> OLD.delivery_id OR NEW.attempt_no <> OLD.attempt_no OR NEW.started_at <> OLD.started_at
           OR NEW.provider <> OLD.provider OR NEW.prev_hash IS DISTINCT FROM OLD.prev_hash THEN
          RAISE EXCEPTION 'delivery attempts are append-only' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $$`);
    await db.query(`DROP TRIGGER audit_log_append_only ON audit_log`);
    await db.query(
      `CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_change()`,
    );
    await db.query(`DROP FUNCTION audit_log_retention_only()`);
    await db.query(`DROP INDEX custody_event_payload_kept_idx`);
    await db.query(`ALTER TABLE custody_event DROP COLUMN payload_cleared_at`);
    await db.query(`DROP INDEX delivery_verification_contact_idx`);
    await db.query(`DROP INDEX registration_retention_idx`);
    await db.query(`ALTER TABLE registration DROP COLUMN erased_at`);
  }
}
