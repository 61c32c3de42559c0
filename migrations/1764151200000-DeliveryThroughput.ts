import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The foreign keys on the fan-out path: one per-row trigger each, 4 of the 9 s that 100,000 registrations took to plan. */
const REPLACED_KEYS = [
  { table: 'notification', column: 'event_id', parent: 'custody_event' },
  { table: 'notification', column: 'registration_id', parent: 'registration' },
  { table: 'delivery', column: 'notification_id', parent: 'notification' },
  { table: 'delivery', column: 'contact_id', parent: 'contact' },
  { table: 'delivery', column: 'staff_id', parent: 'staff' },
];
const PARENTS = [...new Set(REPLACED_KEYS.map((key) => key.parent))];

/**
 * Planning and dispatch throughput. Referential integrity for notification and delivery, checked once per statement instead of once
 * per row: an INSERT checks all its new rows against their parents in one set-based query; the
 * reference columns never change; and the parents are never deleted (the ledger keeps them), so
 * a parent that existed at the check exists for good and no row lock is needed. Also a
 * time-ordered UUID for the fan-out insert, so its keys append to the indexes instead of
 * scattering over them (the columns' defaults stay gen_random_uuid()).
 */
export class DeliveryThroughput1764151200000 implements MigrationInterface {
  name = 'DeliveryThroughput1764151200000';

  async up(db: QueryRunner): Promise<void> {
    const [{ native }]: { native: boolean }[] = await db.query(`SELECT to_regprocedure('uuidv7()') IS NOT NULL AS native`);
    // PostgreSQL 18 has uuidv7(); before it, the same layout: 48 bits of Unix milliseconds, version 7, random bits.
    await db.query(
      native
        ? `CREATE FUNCTION time_ordered_uuid() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS 'SELECT uuidv7()'`
        : `CREATE FUNCTION time_ordered_uuid() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
             SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
               PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
           $$`,
    );

    // Fewer index writes per dispatched delivery. The attempt index repeated delivery_attempt_no_key; the
    // contact index is read only to stop waiting deliveries, so it keeps only those, and the claim
    // and the finish no longer add entries to it.
    await db.query(`DROP INDEX delivery_attempt_delivery_idx`);
    await db.query(`CREATE INDEX delivery_waiting_contact_idx ON delivery (contact_id) WHERE status IN ('pending', 'held')`);
    await db.query(`DROP INDEX delivery_contact_idx`);
    // Twilio callbacks find a delivery by its id (in the callback URL), never by the provider's message id.
    await db.query(`DROP INDEX delivery_provider_message_idx`);

    for (const key of REPLACED_KEYS) await db.query(`ALTER TABLE ${key.table} DROP CONSTRAINT ${key.table}_${key.column}_fkey`);

    await db.query(`
      CREATE FUNCTION notification_references_check() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM new_rows n
                   WHERE NOT EXISTS (SELECT 1 FROM custody_event e WHERE e.id = n.event_id)
                      OR NOT EXISTS (SELECT 1 FROM registration r WHERE r.id = n.registration_id)) THEN
          RAISE EXCEPTION 'notification refers to a missing event or registration' USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE TRIGGER notification_references AFTER INSERT ON notification
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION notification_references_check()`);
    await db.query(`
      CREATE FUNCTION delivery_references_check() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM new_rows d
                   WHERE (d.notification_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM notification n WHERE n.id = d.notification_id))
                      OR (d.contact_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM contact c WHERE c.id = d.contact_id))
                      OR (d.staff_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM staff s WHERE s.id = d.staff_id))) THEN
          RAISE EXCEPTION 'delivery refers to a missing notification, contact or staff member' USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE TRIGGER delivery_references AFTER INSERT ON delivery
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION delivery_references_check()`);

    // What a notification or delivery refers to is fixed at insert.
    await db.query(`
      CREATE FUNCTION refuse_reference_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the references of a % never change', TG_TABLE_NAME USING ERRCODE = 'foreign_key_violation';
      END $$`);
    await db.query(`
      CREATE TRIGGER notification_references_fixed BEFORE UPDATE ON notification FOR EACH ROW
      WHEN (NEW.event_id IS DISTINCT FROM OLD.event_id OR NEW.registration_id IS DISTINCT FROM OLD.registration_id)
      EXECUTE FUNCTION refuse_reference_change()`);
    await db.query(`
      CREATE TRIGGER delivery_references_fixed BEFORE UPDATE ON delivery FOR EACH ROW
      WHEN (NEW.notification_id IS DISTINCT FROM OLD.notification_id OR NEW.contact_id IS DISTINCT FROM OLD.contact_id
            OR NEW.staff_id IS DISTINCT FROM OLD.staff_id)
      EXECUTE FUNCTION refuse_reference_change()`);

    // The parents stay: stopping alerts, unsubscribing and disabling staff are status changes, never deletes.
    await db.query(`
      CREATE FUNCTION keep_referenced_row() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% rows are kept for the delivery ledger', TG_TABLE_NAME USING ERRCODE = 'foreign_key_violation';
      END $$`);
    for (const parent of PARENTS) {
      await db.query(`CREATE TRIGGER ${parent}_kept BEFORE DELETE ON ${parent} FOR EACH ROW EXECUTE FUNCTION keep_referenced_row()`);
      await db.query(
        `CREATE TRIGGER ${parent}_id_kept BEFORE UPDATE ON ${parent} FOR EACH ROW WHEN (NEW.id <> OLD.id) EXECUTE FUNCTION keep_referenced_row()`,
      );
      await db.query(`CREATE TRIGGER ${parent}_kept_truncate BEFORE TRUNCATE ON ${parent} EXECUTE FUNCTION keep_referenced_row()`);
    }
  }

  async down(db: QueryRunner): Promise<void> {
    for (const parent of PARENTS) {
      for (const trigger of ['kept', 'id_kept', 'kept_truncate']) await db.query(`DROP TRIGGER ${parent}_${trigger} ON ${parent}`);
    }
    await db.query(`DROP FUNCTION keep_referenced_row()`);
    await db.query(`DROP TRIGGER delivery_references_fixed ON delivery`);
    await db.query(`DROP TRIGGER notification_references_fixed ON notification`);
    await db.query(`DROP FUNCTION refuse_reference_change()`);
    await db.query(`DROP TRIGGER delivery_references ON delivery`);
    await db.query(`DROP FUNCTION delivery_references_check()`);
    await db.query(`DROP TRIGGER notification_references ON notification`);
    await db.query(`DROP FUNCTION notification_references_check()`);
    for (const key of [...REPLACED_KEYS].reverse()) {
      await db.query(
        `ALTER TABLE ${key.table} ADD CONSTRAINT ${key.table}_${key.column}_fkey FOREIGN KEY (${key.column}) REFERENCES ${key.parent} (id)`,
      );
    }
    await db.query(`CREATE INDEX delivery_provider_message_idx ON delivery (provider_message_id) WHERE provider_message_id IS NOT NULL`);
    await db.query(`CREATE INDEX delivery_contact_idx ON delivery (contact_id, created_at)`);
    await db.query(`DROP INDEX delivery_waiting_contact_idx`);
    await db.query(`CREATE INDEX delivery_attempt_delivery_idx ON delivery_attempt (delivery_id, attempt_no)`);
    await db.query(`DROP FUNCTION time_ordered_uuid()`);
  }
}
