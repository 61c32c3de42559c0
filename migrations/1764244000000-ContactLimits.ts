import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Limits that keep Vigil from being turned on a phone or a mailbox, and keep guessing slow:
 * - code_send: the verification messages and calls each destination (a contact's blind index, so
 *   SMS and calls to one number count together) received in the last 24 hours, one row per
 *   destination, claimed by a single upsert so that concurrent registrations cannot both take the
 *   last slot; last_sent_at lets the sweep drop rows whose every send is a day old.
 * - contact: wrong codes are counted per day (code_attempts since code_attempts_since) and never
 *   reset by a new code; every fifth locks the contact for an hour (code_locked_until); the tenth in
 *   a day locks it until a specialist sends a new code (locked_at). A contact still unverified a day
 *   after its registration (verify_by) gets no more codes and cannot be verified.
 * - registration: a self-registration that no contact has verified expires (expires_at, then status
 *   'expired' by the sweep): registrations are never deleted. The first verified contact clears
 *   expires_at, whichever way it was verified (code or call).
 */
export class ContactLimits1764244000000 implements MigrationInterface {
  name = 'ContactLimits1764244000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE code_send (
        address_index bytea PRIMARY KEY,
        sent_at timestamptz[] NOT NULL,
        last_sent_at timestamptz NOT NULL
      )`);
    await db.query(`CREATE INDEX code_send_last_idx ON code_send (last_sent_at)`);

    await db.query(
      `ALTER TABLE contact ADD COLUMN code_attempts_since timestamptz, ADD COLUMN code_locked_until timestamptz, ADD COLUMN verify_by timestamptz`,
    );
    await db.query(`UPDATE contact SET verify_by = created_at + interval '24 hours' WHERE verified_at IS NULL`);
    // Until now a lock lasted until the next code; it becomes the hour lock.
    await db.query(`
      UPDATE contact SET code_locked_until = locked_at + interval '1 hour', locked_at = NULL
      WHERE locked_at IS NOT NULL AND verified_at IS NULL`);
    await db.query(`UPDATE contact SET code_attempts_since = coalesce(code_sent_at, created_at) WHERE code_attempts > 0`);

    await db.query(`ALTER TABLE registration DROP CONSTRAINT registration_status_check`);
    await db.query(`ALTER TABLE registration ADD CONSTRAINT registration_status_check CHECK (status IN ('active', 'stopped', 'expired'))`);
    await db.query(`ALTER TABLE registration ADD COLUMN expires_at timestamptz`);
    await db.query(`
      UPDATE registration r SET expires_at = r.created_at + interval '24 hours'
      WHERE r.status = 'active' AND r.enrolled_by IS NULL
        AND NOT EXISTS (SELECT 1 FROM contact c WHERE c.registration_id = r.id AND c.verified_at IS NOT NULL)`);
    // The sweep's only path in: the few registrations still waiting for a first verification.
    await db.query(`CREATE INDEX registration_expiry_idx ON registration (expires_at) WHERE status = 'active' AND expires_at IS NOT NULL`);
    await db.query(`
      CREATE FUNCTION registration_verified() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE registration SET expires_at = NULL WHERE id = NEW.registration_id AND expires_at IS NOT NULL AND status = 'active';
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE TRIGGER contact_verified AFTER UPDATE OF verified_at ON contact FOR EACH ROW
      WHEN (OLD.verified_at IS NULL AND NEW.verified_at IS NOT NULL) EXECUTE FUNCTION registration_verified()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER contact_verified ON contact`);
    await db.query(`DROP FUNCTION registration_verified()`);
    await db.query(`DROP INDEX registration_expiry_idx`);
    await db.query(`ALTER TABLE registration DROP COLUMN expires_at`);
    await db.query(`UPDATE registration SET status = 'stopped' WHERE status = 'expired'`);
    await db.query(`ALTER TABLE registration DROP CONSTRAINT registration_status_check`);
    await db.query(`ALTER TABLE registration ADD CONSTRAINT registration_status_check CHECK (status IN ('active', 'stopped'))`);
    await db.query(`UPDATE contact SET locked_at = coalesce(locked_at, code_locked_until) WHERE code_locked_until IS NOT NULL`);
    await db.query(`ALTER TABLE contact DROP COLUMN verify_by, DROP COLUMN code_locked_until, DROP COLUMN code_attempts_since`);
    await db.query(`DROP TABLE code_send`);
  }
}
