import type { MigrationInterface, QueryRunner } from 'typeorm';

const CHANNELS = `'email', 'sms', 'voice'`;
const DELIVERY_STATUSES = `'pending', 'held', 'sending', 'sent', 'delivered', 'confirmed', 'failed', 'dead', 'suppressed'`;

export class Registrations1764144000000 implements MigrationInterface {
  name = 'Registrations1764144000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE registration (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        person_id uuid NOT NULL REFERENCES person (id),
        language text NOT NULL,
        event_types text[],
        quiet_hours jsonb,
        pin_hash text,
        manage_token_hash bytea NOT NULL,
        registrant_name text,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'stopped')),
        enrolled_by uuid REFERENCES staff (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        stopped_at timestamptz,
        CONSTRAINT registration_manage_token_key UNIQUE (manage_token_hash)
      )`);
    await db.query(`CREATE INDEX registration_person_idx ON registration (person_id) WHERE status = 'active'`);
    await db.query(`CREATE INDEX registration_enrolled_by_idx ON registration (enrolled_by, created_at)`);
    await db.query(`
      CREATE TABLE contact (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        registration_id uuid NOT NULL REFERENCES registration (id),
        position integer NOT NULL,
        channel text NOT NULL CHECK (channel IN (${CHANNELS})),
        address text NOT NULL,
        address_index bytea NOT NULL,
        key_id text NOT NULL,
        verified_at timestamptz,
        verified_by text CHECK (verified_by IN ('code', 'call', 'specialist')),
        code_hash bytea,
        code_expires_at timestamptz,
        code_attempts integer NOT NULL DEFAULT 0,
        code_sent_at timestamptz,
        locked_at timestamptz,
        unsubscribed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX contact_registration_idx ON contact (registration_id)`);
    await db.query(`CREATE INDEX contact_address_idx ON contact (address_index)`);
    await db.query(`CREATE INDEX contact_key_idx ON contact (key_id)`);
    await db.query(`
      CREATE TABLE phone_opt_out (
        address_index bytea PRIMARY KEY,
        opted_out_at timestamptz NOT NULL
      )`);
    await db.query(`
      CREATE TABLE audit_log (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        at timestamptz NOT NULL DEFAULT now(),
        actor_staff_id uuid REFERENCES staff (id),
        actor_role text,
        action text NOT NULL,
        target_type text NOT NULL,
        target_id uuid,
        client_address text,
        details jsonb
      )`);
    await db.query(`CREATE INDEX audit_log_at_idx ON audit_log (at)`);
    await db.query(`CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id)`);
    // Append-only tables refuse UPDATE and DELETE for everyone, the application included.
    await db.query(`
      CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await db.query(
      `CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_change()`,
    );

    await db.query(`
      CREATE TABLE notification (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        event_id uuid NOT NULL REFERENCES custody_event (id),
        registration_id uuid NOT NULL REFERENCES registration (id),
        kind text NOT NULL CHECK (kind IN ('alert', 'correction')),
        urgent boolean NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'delivered', 'confirmed', 'failed', 'suppressed')),
        escalated_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT notification_event_registration_key UNIQUE (event_id, registration_id)
      )`);
    await db.query(`CREATE INDEX notification_registration_idx ON notification (registration_id, created_at)`);
    await db.query(`
      CREATE TABLE delivery (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        purpose text NOT NULL CHECK (purpose IN ('alert', 'verification', 'staff')),
        notification_id uuid REFERENCES notification (id),
        contact_id uuid REFERENCES contact (id),
        staff_id uuid REFERENCES staff (id),
        channel text NOT NULL CHECK (channel IN (${CHANNELS})),
        status text NOT NULL DEFAULT 'pending' CHECK (status IN (${DELIVERY_STATUSES})),
        secret text,
        payload jsonb,
        due_at timestamptz NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        lease_owner text,
        lease_expires_at timestamptz,
        provider_message_id text,
        last_error text,
        round integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT delivery_notification_contact_key UNIQUE (notification_id, contact_id, round),
        CHECK ((purpose = 'staff') = (staff_id IS NOT NULL)),
        CHECK ((purpose = 'alert') = (notification_id IS NOT NULL))
      )`);
    await db.query(`CREATE INDEX delivery_due_idx ON delivery (due_at) WHERE status IN ('pending', 'held', 'sending')`);
    await db.query(`CREATE INDEX delivery_contact_idx ON delivery (contact_id, created_at)`);
    await db.query(`CREATE INDEX delivery_status_idx ON delivery (status, updated_at) WHERE status = 'dead'`);
    await db.query(`CREATE INDEX delivery_provider_message_idx ON delivery (provider_message_id) WHERE provider_message_id IS NOT NULL`);
    await db.query(`
      CREATE TABLE delivery_attempt (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        delivery_id uuid NOT NULL REFERENCES delivery (id),
        attempt_no integer NOT NULL,
        started_at timestamptz NOT NULL,
        finished_at timestamptz,
        provider text NOT NULL,
        provider_message_id text,
        outcome text CHECK (outcome IN ('accepted', 'transient_error', 'permanent_error')),
        error_code text,
        error_class text,
        response_excerpt text,
        prev_hash bytea,
        hash bytea,
        CONSTRAINT delivery_attempt_no_key UNIQUE (delivery_id, attempt_no)
      )`);
    // An attempt is written before the provider is called and finished exactly once after; then it is frozen.
    await db.query(`
      CREATE FUNCTION attempt_finish_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' OR OLD.outcome IS NOT NULL
           OR NEW.delivery_id <> OLD.delivery_id OR NEW.attempt_no <> OLD.attempt_no OR NEW.started_at <> OLD.started_at
           OR NEW.provider <> OLD.provider OR NEW.prev_hash IS DISTINCT FROM OLD.prev_hash THEN
          RAISE EXCEPTION 'delivery attempts are append-only' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $$`);
    await db.query(
      `CREATE TRIGGER delivery_attempt_append_only BEFORE UPDATE OR DELETE ON delivery_attempt FOR EACH ROW EXECUTE FUNCTION attempt_finish_once()`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of ['delivery_attempt', 'delivery', 'notification', 'audit_log', 'phone_opt_out', 'contact', 'registration']) {
      await db.query(`DROP TABLE ${table}`);
    }
    await db.query(`DROP FUNCTION attempt_finish_once()`);
    await db.query(`DROP FUNCTION refuse_change()`);
  }
}
