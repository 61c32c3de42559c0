import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rate limits that hold with any number of api processes: one counter row per (bucket, client),
 * bumped by one upsert per request; its fixed window starts at the first request and is restarted
 * by the first request after it ends. `key` is a keyed hash of the client address or the login
 * email, so the table holds neither. A staff account's failed-login streak is a row with
 * `blocked_until`. Rows past `expires_at` are swept by the processes themselves.
 */
export class RateLimitCounters1764260000000 implements MigrationInterface {
  name = 'RateLimitCounters1764260000000';

  async up(db: QueryRunner): Promise<void> {
    // fillfactor: room on each page so a bump within a window is a HOT update (no indexed column changes).
    await db.query(`
      CREATE TABLE rate_limit (
        bucket text NOT NULL,
        key bytea NOT NULL,
        window_start timestamptz NOT NULL,
        hits integer NOT NULL,
        expires_at timestamptz NOT NULL,
        blocked_until timestamptz,
        PRIMARY KEY (bucket, key)
      ) WITH (fillfactor = 70)`);
    await db.query(`CREATE INDEX rate_limit_expires_idx ON rate_limit (expires_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE rate_limit`);
  }
}
