import 'reflect-metadata';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FieldCipher } from '../common/crypto/field-cipher.js';
import { loadConfig } from '../config/app-config.js';
import { loadEnvFile } from '../config/env-file.js';
import { ciphertextUpgradeStep } from '../registrations/key-rotation.js';
import { withDatabaseUrl } from './cli-database.js';
import { revertMigrations, runMigrations } from './migrate.js';

/**
 * `npm run migration:run | migration:revert [-- --all]` against DATABASE_URL, or the embedded
 * PostgreSQL under DATA_DIR when it is unset; `npm run migration:create -- Name` writes an empty one.
 */
async function main(): Promise<void> {
  loadEnvFile();
  const [command, ...args] = process.argv.slice(2);
  if (command === 'create') {
    const name = args.find((arg) => /^[A-Z][A-Za-z0-9]+$/.test(arg));
    if (!name) throw new Error('Give the migration a PascalCase name: npm run migration:create -- AddThing');
    return create(name);
  }
  const config = loadConfig();
  // The migration lock is a session advisory lock: it needs the session URL behind a transaction pooler.
  const database = { ...config.database, url: config.database.sessionUrl ?? config.database.url };
  await withDatabaseUrl({ ...config, database }, async (url) => {
    if (command === 'run') {
      const cipher = new FieldCipher(config.security.encryptionKey, config.security.previousEncryptionKeys);
      const applied = await runMigrations(
        url,
        ciphertextUpgradeStep(cipher, (result) => console.log(`Re-encrypted stored secrets: ${JSON.stringify(result)}`)),
      );
      console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'No pending migrations.');
    } else if (command === 'revert') {
      const reverted = await revertMigrations(url, args.includes('--all') ? Number.POSITIVE_INFINITY : 1);
      console.log(`Reverted ${reverted} migration(s).`);
    } else {
      throw new Error(`Unknown command "${command ?? ''}": use run, revert or create`);
    }
  });
}

/**
 * Writes an empty migration to fill in by hand. Vigil's schema is written in SQL (partial indexes,
 * statement-level reference triggers, functions), which no entity diff can express.
 */
async function create(name: string): Promise<void> {
  const timestamp = Date.now();
  const file = path.join(process.cwd(), 'migrations', `${timestamp}-${name}.ts`);
  await writeFile(
    file,
    `import type { MigrationInterface, QueryRunner } from 'typeorm';\n\n` +
      `export class ${name}${timestamp} implements MigrationInterface {\n  name = '${name}${timestamp}';\n\n` +
      `  async up(db: QueryRunner): Promise<void> {\n    await db.query(\`\`);\n  }\n\n` +
      `  async down(db: QueryRunner): Promise<void> {\n    await db.query(\`\`);\n  }\n}\n`,
    { flag: 'wx' },
  );
  console.log(`Wrote ${path.relative(process.cwd(), file)}; add ${name}${timestamp} to migrations/index.ts.`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
