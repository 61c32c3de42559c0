import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { revertMigrations, runMigrations } from '../../src/database/migrate.js';
import { MIGRATIONS } from '../../migrations/index.js';
import { createTestDatabase } from '../support/test-database.js';

async function tables(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'schema_migrations' ORDER BY 1`,
  );
  await client.end();
  return rows.map((row) => row.table_name);
}

describe('migrations', () => {
  it('apply on an empty database, revert completely, and apply again', async () => {
    const url = await createTestDatabase({ empty: true });
    expect(await tables(url)).toEqual([]);

    const applied = await runMigrations(url);
    expect(applied).toHaveLength(MIGRATIONS.length);
    const schema = await tables(url);
    expect(schema).toContain('staff');

    expect(await runMigrations(url)).toEqual([]);

    expect(await revertMigrations(url)).toBe(MIGRATIONS.length);
    expect(await tables(url)).toEqual([]);

    await runMigrations(url);
    expect(await tables(url)).toEqual(schema);
  });

  it('several processes starting at once migrate exactly once', async () => {
    const url = await createTestDatabase({ empty: true });
    const results = await Promise.all([runMigrations(url), runMigrations(url), runMigrations(url)]);
    expect(results.map((r) => r.length).sort()).toEqual([0, 0, MIGRATIONS.length]);
  });

  it('every time column is timestamptz and every single-column key a UUID from gen_random_uuid()', async () => {
    const url = await createTestDatabase({ empty: true });
    await runMigrations(url);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const naive = await client.query(
      `SELECT table_name, column_name FROM information_schema.columns
       WHERE table_schema = 'public' AND data_type = 'timestamp without time zone'`,
    );
    const keys = await client.query<{ table_name: string; data_type: string; column_default: string | null }>(
      `SELECT c.table_name, c.data_type, c.column_default
       FROM information_schema.table_constraints t
       JOIN information_schema.key_column_usage k USING (constraint_name, table_schema, table_name)
       JOIN information_schema.columns c ON c.table_schema = k.table_schema AND c.table_name = k.table_name AND c.column_name = k.column_name
       WHERE t.constraint_type = 'PRIMARY KEY' AND t.table_schema = 'public' AND t.table_name <> 'schema_migrations'
         AND (SELECT count(*) FROM information_schema.key_column_usage k2
              WHERE k2.constraint_name = t.constraint_name AND k2.table_name = t.table_name) = 1`,
    );
    await client.end();
    expect(naive.rows).toEqual([]);
    expect(keys.rows.length).toBeGreaterThan(0);
    // Natural keys, on purpose: a phone number's opt-out and a destination's code sends are keyed by its blind index; an
    // event's escalation watch by its event; an escalation by its notification; a data upgrade by its name.
    const naturalKeys = ['phone_opt_out', 'escalation_watch', 'escalation', 'code_send', 'data_upgrade'];
    for (const key of keys.rows.filter((row) => !naturalKeys.includes(row.table_name))) {
      expect(key, key.table_name).toMatchObject({ data_type: 'uuid', column_default: 'gen_random_uuid()' });
    }
  });

  it('fan-out ids: a run counts up from one time-ordered start, keeping its version and variant, and wraps in its random bits', async () => {
    const url = await createTestDatabase({ empty: true });
    await runMigrations(url);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const run = await client.query<{ id: string }>(
      `SELECT uuid_run(start, n)::text AS id FROM time_ordered_uuid() start, generate_series(0, 2) n`,
    );
    const wrapped = await client.query<{ id: string }>(
      `SELECT uuid_run('018f0000-0000-7abc-bfff-fffffffffffe', n)::text AS id FROM generate_series(0, 3) n`,
    );
    await client.end();
    const [first, second, third] = run.rows.map((row) => row.id);
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // The same timestamp, version and random high bits; the low 62 bits count up by one.
    expect(second.slice(0, 19)).toBe(first.slice(0, 19));
    const low = (id: string) => BigInt(`0x${id.slice(19).replace('-', '')}`) & ((1n << 62n) - 1n);
    expect([low(second) - low(first), low(third) - low(second)]).toEqual([1n, 1n]);
    expect(wrapped.rows.map((row) => row.id)).toEqual([
      '018f0000-0000-7abc-bfff-fffffffffffe',
      '018f0000-0000-7abc-bfff-ffffffffffff',
      '018f0000-0000-7abc-8000-000000000000',
      '018f0000-0000-7abc-8000-000000000001',
    ]);
  });
});
