import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options.js';

// Any constant works; it only has to be the same in every Vigil process.
const MIGRATION_LOCK = 7_316_450_021;

/**
 * Applies pending migrations under an advisory lock, so any number of processes may start
 * against one database at once and exactly one of them migrates. `afterMigrations` runs under the
 * same lock: data upgrades that need what SQL has not got (the encryption key).
 */
export async function runMigrations(url: string, afterMigrations?: (db: DataSource) => Promise<void>): Promise<string[]> {
  const dataSource = new DataSource(dataSourceOptions(url, { poolSize: 2 }));
  await dataSource.initialize();
  const lock = dataSource.createQueryRunner();
  try {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    await afterMigrations?.(dataSource);
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    return applied.map((migration) => migration.name);
  } finally {
    await lock.release();
    await dataSource.destroy();
  }
}

/** Reverts every applied migration, newest first. For tests and for `npm run migration:revert -- --all`. */
export async function revertMigrations(url: string, count = Number.POSITIVE_INFINITY): Promise<number> {
  const dataSource = new DataSource(dataSourceOptions(url, { poolSize: 2 }));
  await dataSource.initialize();
  let reverted = 0;
  try {
    while (reverted < count) {
      const rows: unknown[] = await dataSource.query(`SELECT 1 FROM schema_migrations LIMIT 1`);
      if (rows.length === 0) break;
      await dataSource.undoLastMigration({ transaction: 'each' });
      reverted++;
    }
    return reverted;
  } finally {
    await dataSource.destroy();
  }
}
