import 'reflect-metadata';
import { loadConfig } from '../config/app-config.js';
import { loadEnvFile } from '../config/env-file.js';
import { withDataSource } from '../database/cli-database.js';
import { verifyAttemptChains } from './ledger.js';

/** `npm run ledger:verify`: checks every delivery's hash chain; exits 1 and names the broken ones. */
async function main(): Promise<void> {
  loadEnvFile();
  await withDataSource(loadConfig(), async (db) => {
    const broken = await verifyAttemptChains(db);
    const [{ count }]: { count: string }[] = await db.query(`SELECT count(*) FROM delivery_attempt`);
    if (broken.length) {
      console.error(`Ledger check FAILED: ${broken.length} deliveries have a broken chain:\n${broken.join('\n')}`);
      process.exitCode = 1;
    } else {
      console.log(`Ledger check passed: ${count} attempts, every chain intact.`);
    }
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
