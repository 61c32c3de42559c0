import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Quiet hours are an object `{start, end, timeZone}` or nothing. The API once let an array through
 * (`quietHours: []`, or the object wrapped in one), which was stored and then broke the delivery
 * worker on every alert for that registration. An array holding one well-formed object becomes
 * that object; anything else becomes "no quiet hours". The CHECK keeps any future path from storing one.
 */
const WELL_FORMED = (value: string) =>
  `coalesce(jsonb_typeof(${value}) = 'object' AND jsonb_typeof(${value}->'start') = 'string'
     AND jsonb_typeof(${value}->'end') = 'string' AND jsonb_typeof(${value}->'timeZone') = 'string', false)`;

export class QuietHoursObjects1764234000000 implements MigrationInterface {
  name = 'QuietHoursObjects1764234000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `UPDATE registration SET quiet_hours = quiet_hours->0
       WHERE jsonb_typeof(quiet_hours) = 'array' AND jsonb_array_length(quiet_hours) = 1 AND ${WELL_FORMED(`quiet_hours->0`)}`,
    );
    await db.query(`UPDATE registration SET quiet_hours = NULL WHERE quiet_hours IS NOT NULL AND NOT ${WELL_FORMED('quiet_hours')}`);
    await db.query(
      `ALTER TABLE registration ADD CONSTRAINT registration_quiet_hours_object CHECK (quiet_hours IS NULL OR ${WELL_FORMED('quiet_hours')})`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE registration DROP CONSTRAINT registration_quiet_hours_object`);
  }
}
