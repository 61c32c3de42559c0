import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A run of time-ordered ids from one start: the start's timestamp and version, and its 62 random
 * low bits counted up by n (modulo 2^62, the variant bits kept). Planning a crowded event takes one
 * uuidv7() per table instead of one per row: 200,000 of those were an eighth of the fan-out's time,
 * nearly all of it in the random number generator. Unique within a run by construction, and across
 * runs unless two runs start in the same millisecond with random bits within a run's length of each
 * other (below 2^-44 for two runs of 100,000); the primary keys would refuse that.
 */
export class PlanningIds1764172800000 implements MigrationInterface {
  name = 'PlanningIds1764172800000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE FUNCTION uuid_run(start uuid, n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
         SELECT encode(substring(uuid_send(start) FOR 8)
                       || int8send(((('x' || encode(substring(uuid_send(start) FROM 9), 'hex'))::bit(64)::bigint + n)
                                    & 4611686018427387903) | (-9223372036854775808)::bigint), 'hex')::uuid
       $$`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP FUNCTION uuid_run(uuid, bigint)`);
  }
}
