import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The services directory an office keeps: shelters, legal aid, counselling, medical care,
 * immigration relief, hotlines. There is deliberately no street address: a shelter's location is
 * confidential, and a victim reaches it by phone through a specialist. `public` entries are listed
 * on the victims' help page; the others are only shared by a specialist with one victim.
 *
 * Entries are archived, never deleted (a trigger refuses DELETE): the ledger keeps what each victim
 * was sent, and the directory keeps what it offered and when. The table holds an office's few
 * hundred entries at most, so its lists read it whole and it needs no index beyond its key.
 */
export class ServicesDirectory1765500000000 implements MigrationInterface {
  name = 'ServicesDirectory1765500000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE support_service (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        kind text NOT NULL CHECK (kind IN ('shelter', 'legal_aid', 'counselling', 'medical', 'immigration_relief', 'hotline', 'other')),
        phone text CHECK (length(phone) <= 40),
        website text CHECK (website ~ '^https?://' AND length(website) <= 500),
        languages text[] NOT NULL DEFAULT '{}',
        area text CHECK (length(area) <= 200),
        hours text CHECK (length(hours) <= 200),
        description_en text CHECK (length(description_en) <= 1000),
        description_es text CHECK (length(description_es) <= 1000),
        public boolean NOT NULL DEFAULT false,
        archived_at timestamptz,
        archived_by uuid REFERENCES staff (id),
        created_at timestamptz NOT NULL,
        created_by uuid NOT NULL REFERENCES staff (id),
        updated_at timestamptz NOT NULL,
        updated_by uuid NOT NULL REFERENCES staff (id)
      )`);
    await db.query(`
      CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% rows are archived, never deleted', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await db.query(
      `CREATE TRIGGER support_service_no_delete BEFORE DELETE ON support_service FOR EACH ROW EXECUTE FUNCTION refuse_delete()`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE support_service`);
    await db.query(`DROP FUNCTION refuse_delete()`);
  }
}
