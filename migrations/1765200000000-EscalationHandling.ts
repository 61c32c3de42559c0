import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An escalation is a notification a victim may not know about, handed to a person. Staff acknowledge
 * it (someone is on it) and resolve it with a note of what was done; the note tells a victim's
 * circumstances, so it is sealed (AES-256-GCM, bound to the row). Keyed by the notification it is
 * about. Resolving is final: the trigger refuses to reopen or rewrite a resolved escalation, and lets
 * only its note's ciphertext change (a key rotation re-seals it). The open ones are a small set read
 * on every console page, hence the partial index.
 */
export class EscalationHandling1765200000000 implements MigrationInterface {
  name = 'EscalationHandling1765200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE escalation (
        id uuid PRIMARY KEY REFERENCES notification (id),
        escalated_at timestamptz NOT NULL,
        acknowledged_at timestamptz,
        acknowledged_by uuid REFERENCES staff (id),
        resolved_at timestamptz,
        resolved_by uuid REFERENCES staff (id),
        resolution_note text,
        CONSTRAINT escalation_acknowledged_whole CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL)),
        CONSTRAINT escalation_resolved_whole CHECK (
          (resolved_at IS NULL) = (resolved_by IS NULL) AND (resolved_at IS NULL) = (resolution_note IS NULL)),
        CONSTRAINT escalation_resolved_acknowledged CHECK (resolved_at IS NULL OR acknowledged_at IS NOT NULL)
      )`);
    await db.query(`CREATE INDEX escalation_open_idx ON escalation (escalated_at) WHERE resolved_at IS NULL`);
    await db.query(`CREATE INDEX escalation_resolved_idx ON escalation (resolved_at) WHERE resolved_at IS NOT NULL`);
    await db.query(`
      CREATE FUNCTION escalation_resolved_final() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          RAISE EXCEPTION 'escalations are kept' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF OLD.resolved_at IS NOT NULL AND (
             NEW.resolved_at IS DISTINCT FROM OLD.resolved_at OR NEW.resolved_by IS DISTINCT FROM OLD.resolved_by
             OR NEW.acknowledged_at IS DISTINCT FROM OLD.acknowledged_at OR NEW.acknowledged_by IS DISTINCT FROM OLD.acknowledged_by
             OR NEW.escalated_at IS DISTINCT FROM OLD.escalated_at OR NEW.id IS DISTINCT FROM OLD.id) THEN
          RAISE EXCEPTION 'a resolved escalation is final' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF OLD.acknowledged_at IS NOT NULL AND (NEW.acknowledged_at IS DISTINCT FROM OLD.acknowledged_at
             OR NEW.acknowledged_by IS DISTINCT FROM OLD.acknowledged_by) THEN
          RAISE EXCEPTION 'an acknowledgement is kept as first made' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
      END $$`);
    await db.query(
      `CREATE TRIGGER escalation_history_kept BEFORE UPDATE OR DELETE ON escalation FOR EACH ROW EXECUTE FUNCTION escalation_resolved_final()`,
    );
    // Escalations raised before handling was recorded start open: nobody has said they were dealt with.
    await db.query(`INSERT INTO escalation (id, escalated_at) SELECT id, escalated_at FROM notification WHERE escalated_at IS NOT NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE escalation`);
    await db.query(`DROP FUNCTION escalation_resolved_final()`);
  }
}
