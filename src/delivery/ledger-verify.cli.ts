import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/app-config.js';
import { dataSourceOptions } from '../database/data-source-options.js';
import { type RunningPostgres, startEmbeddedPostgres } from '../database/embedded-postgres.launcher.js';
import { verifyAttemptChains } from './ledger.js';

/** `npm run ledger:verify`: checks every delivery's hash chain; exits 1 and names the broken ones. */
async function main(): Promise<void> {
  const config = loadConfig();
  let embedded: RunningPostgres | undefined;
  let url = config.database.url;
  if (!url) {
    embedded = await startEmbeddedPostgres({ dataDir: config.database.dataDir });
    url = embedded.url('vigil');
  }
  const db = new DataSource(dataSourceOptions(url, { poolSize: 1 }));
  await db.initialize();
  try {
    const broken = await verifyAttemptChains(db);
    const [{ count }]: { count: string }[] = await db.query(`SELECT count(*) FROM delivery_attempt`);
    if (broken.length) {
      console.error(`Ledger check FAILED: ${broken.length} deliveries have a broken chain:\n${broken.join('\n')}`);
      process.exitCode = 1;
    } else {
      console.log(`Ledger check passed: ${count} attempts, every chain intact.`);
    }
  } finally {
    await db.destroy();
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
