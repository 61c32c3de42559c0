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
    // Natural keys, on purpose: a phone number's opt-out is keyed by its blind index; an event's escalation watch by its event.
    const naturalKeys = ['phone_opt_out', 'escalation_watch'];
    for (const key of keys.rows.filter((row) => !naturalKeys.includes(row.table_name))) {
      expect(key, key.table_name).toMatchObject({ data_type: 'uuid', column_default: 'gen_random_uuid()' });
    }
  });
});
