import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import { dataSourceOptions } from './data-source-options.js';
import { runningEmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres.launcher.js';
import { ensureDatabase } from './ensure-database.js';

export const EMBEDDED_DATABASE = 'vigil';

/**
 * For command-line tools: DATABASE_URL, or the embedded PostgreSQL under DATA_DIR: the one a
 * running Vigil holds there, else one started for the tool and stopped after.
 */
export async function withDatabaseUrl<T>(config: AppConfig, work: (url: string) => Promise<T>): Promise<T> {
  if (config.database.url) return work(config.database.url);
  const running = await runningEmbeddedPostgres(config.database.dataDir);
  if (running) return work(running.url(EMBEDDED_DATABASE));
  const embedded = await startEmbeddedPostgres({ dataDir: config.database.dataDir });
  try {
    await ensureDatabase(embedded.url(), EMBEDDED_DATABASE);
    return await work(embedded.url(EMBEDDED_DATABASE));
  } finally {
    await embedded.stop();
  }
}

export async function withDataSource<T>(config: AppConfig, work: (db: DataSource) => Promise<T>): Promise<T> {
  return withDatabaseUrl(config, async (url) => {
    const db = new DataSource(dataSourceOptions(url, { poolSize: 2 }));
    await db.initialize();
    try {
      return await work(db);
    } finally {
      await db.destroy();
    }
  });
}
