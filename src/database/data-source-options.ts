import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';
import { DatabaseLogger } from './database-logger.js';

/**
 * One place for how Vigil talks to PostgreSQL, shared by the app, the migration CLI and tests.
 * Schema changes only ever come from migrations; synchronize stays off.
 */
export function dataSourceOptions(url: string, extra: Partial<DataSourceOptions> = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    applicationName: 'vigil',
    synchronize: false,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    poolSize: 20,
    // Never TypeORM's console loggers: they print every failed query's parameters.
    logger: new DatabaseLogger(),
    extra: {
      // Fail fast when the database is unreachable, so requests answer 503 instead of hanging.
      connectionTimeoutMillis: 3_000,
      idleTimeoutMillis: 30_000,
    },
    ...extra,
  } as DataSourceOptions;
}
