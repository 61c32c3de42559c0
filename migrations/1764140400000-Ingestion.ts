import type { MigrationInterface, QueryRunner } from 'typeorm';

const STATUSES = `'IN_CUSTODY', 'RELEASED', 'TRANSFERRED', 'ESCAPED', 'DECEASED', 'REMOVED', 'UNKNOWN'`;
const EVENT_TYPES = `'BOOKED', 'RELEASED', 'TRANSFERRED', 'ESCAPED', 'RETURNED_TO_CUSTODY', 'DECEASED', 'REMOVED',
  'RELEASE_SCHEDULED', 'HEARING_SCHEDULED', 'CORRECTION'`;

export class Ingestion1764140400000 implements MigrationInterface {
  name = 'Ingestion1764140400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE source (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        facility_codes text[],
        signing_required boolean NOT NULL DEFAULT false,
        signing_secret text NOT NULL,
        expected_interval_seconds integer CHECK (expected_interval_seconds >= 1),
        last_contact_at timestamptz,
        stale_since timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT source_name_key UNIQUE (name)
      )`);
    await db.query(`
      CREATE TABLE source_key (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        source_id uuid NOT NULL REFERENCES source (id) ON DELETE CASCADE,
        key_hash bytea NOT NULL,
        key_prefix text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        CONSTRAINT source_key_hash_key UNIQUE (key_hash)
      )`);
    await db.query(`CREATE INDEX source_key_active_idx ON source_key (source_id) WHERE revoked_at IS NULL`);
    await db.query(`
      CREATE TABLE webhook_message (
        source_id uuid NOT NULL REFERENCES source (id) ON DELETE CASCADE,
        webhook_id text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (source_id, webhook_id)
      )`);
    await db.query(`CREATE INDEX webhook_message_received_idx ON webhook_message (received_at)`);
    await db.query(`
      CREATE TABLE facility (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        code text NOT NULL,
        name text,
        suppressed boolean NOT NULL DEFAULT false,
        suppression_reason text,
        suppression_changed_at timestamptz,
        suppression_changed_by uuid REFERENCES staff (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT facility_code_key UNIQUE (code)
      )`);
    await db.query(`
      CREATE TABLE feed (
        source_id uuid NOT NULL REFERENCES source (id) ON DELETE CASCADE,
        facility_id uuid NOT NULL REFERENCES facility (id),
        last_contact_at timestamptz NOT NULL,
        population integer,
        population_as_of timestamptz,
        PRIMARY KEY (source_id, facility_id)
      )`);
    await db.query(`
      CREATE TABLE feed_alert (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        source_id uuid NOT NULL REFERENCES source (id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('stale', 'recovered')),
        last_contact_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX feed_alert_source_idx ON feed_alert (source_id, created_at)`);
    await db.query(`
      CREATE TABLE person (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        first_name text NOT NULL,
        last_name text NOT NULL,
        first_name_key text NOT NULL,
        last_name_key text NOT NULL,
        date_of_birth date,
        country_of_birth text,
        custody_status text NOT NULL DEFAULT 'UNKNOWN' CHECK (custody_status IN (${STATUSES})),
        status_as_of timestamptz,
        status_event_id uuid,
        facility_id uuid REFERENCES facility (id),
        protected boolean NOT NULL DEFAULT false,
        protection_reason text,
        protection_changed_at timestamptz,
        protection_changed_by uuid REFERENCES staff (id),
        merged_into uuid REFERENCES person (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX person_name_idx ON person (last_name_key, first_name_key) WHERE merged_into IS NULL`);
    await db.query(
      `CREATE INDEX person_population_idx ON person (facility_id)
       WHERE merged_into IS NULL AND custody_status IN ('IN_CUSTODY', 'TRANSFERRED')`,
    );
    await db.query(`
      CREATE TABLE person_identifier (
        person_id uuid NOT NULL REFERENCES person (id),
        system text NOT NULL,
        value text NOT NULL,
        scope_source_id uuid REFERENCES source (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT person_identifier_key UNIQUE NULLS NOT DISTINCT (system, value, scope_source_id)
      )`);
    await db.query(`CREATE INDEX person_identifier_person_idx ON person_identifier (person_id)`);
    await db.query(`
      CREATE TABLE roster_snapshot (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        source_id uuid NOT NULL REFERENCES source (id),
        facility_id uuid NOT NULL REFERENCES facility (id),
        as_of timestamptz NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        status text NOT NULL CHECK (status IN ('baseline', 'applied', 'held', 'approved', 'discarded')),
        population integer NOT NULL,
        booked integer NOT NULL,
        released integer NOT NULL,
        unchanged integer NOT NULL,
        booked_person_ids uuid[] NOT NULL DEFAULT '{}',
        released_person_ids uuid[] NOT NULL DEFAULT '{}',
        decided_at timestamptz,
        decided_by uuid REFERENCES staff (id)
      )`);
    await db.query(`CREATE INDEX roster_snapshot_held_idx ON roster_snapshot (received_at) WHERE status = 'held'`);
    await db.query(`CREATE INDEX roster_snapshot_facility_idx ON roster_snapshot (facility_id, received_at)`);
    await db.query(`
      CREATE TABLE custody_event (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        source_id uuid NOT NULL REFERENCES source (id),
        source_event_id text NOT NULL,
        body_hash bytea NOT NULL,
        payload jsonb NOT NULL,
        type text NOT NULL CHECK (type IN (${EVENT_TYPES})),
        occurred_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        person_id uuid NOT NULL REFERENCES person (id),
        facility_id uuid NOT NULL REFERENCES facility (id),
        to_facility_id uuid REFERENCES facility (id),
        scheduled_for timestamptz,
        details jsonb,
        corrects_event_id uuid REFERENCES custody_event (id),
        retracted_by_event_id uuid REFERENCES custody_event (id),
        roster_snapshot_id uuid REFERENCES roster_snapshot (id),
        minor boolean NOT NULL DEFAULT false,
        notification_block text CHECK (notification_block IN ('baseline', 'facility_suppressed', 'person_protected', 'minor')),
        CONSTRAINT custody_event_source_event_key UNIQUE (source_id, source_event_id)
      )`);
    await db.query(`CREATE INDEX custody_event_person_idx ON custody_event (person_id, occurred_at DESC)`);
    await db.query(`CREATE INDEX custody_event_received_idx ON custody_event (received_at)`);
    await db.query(`ALTER TABLE person ADD CONSTRAINT person_status_event_fk FOREIGN KEY (status_event_id) REFERENCES custody_event (id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE person DROP CONSTRAINT person_status_event_fk`);
    for (const table of [
      'custody_event',
      'roster_snapshot',
      'person_identifier',
      'person',
      'feed_alert',
      'feed',
      'facility',
      'webhook_message',
      'source_key',
      'source',
    ]) {
      await db.query(`DROP TABLE ${table}`);
    }
  }
}
