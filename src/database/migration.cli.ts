import 'reflect-metadata';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { FieldCipher } from '../common/crypto/field-cipher.js';
import { loadConfig } from '../config/app-config.js';
import { ciphertextUpgradeStep } from '../registrations/key-rotation.js';
import { dataSourceOptions } from './data-source-options.js';
import { withDatabaseUrl } from './cli-database.js';
import { revertMigrations, runMigrations } from './migrate.js';

/**
 * `npm run migration:run | migration:revert [-- --all] | migration:generate -- Name`
 * against DATABASE_URL, or the embedded PostgreSQL under DATA_DIR when it is unset.
 */
async function main(): Promise<void> {
  const [command, ...args] = process.argv.slice(2);
  const config = loadConfig();
  await withDatabaseUrl(config, async (url) => {
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
    } else if (command === 'generate') {
      const name = args.find((arg) => /^[A-Z][A-Za-z0-9]+$/.test(arg));
      if (!name) throw new Error('Give the migration a PascalCase name: npm run migration:generate -- AddThing');
      await generate(url, name);
    } else {
      throw new Error(`Unknown command "${command ?? ''}": use run, revert or generate`);
    }
  });
}

/** Writes the SQL that brings the migrated schema in line with the entities, as a new migration file. */
async function generate(url: string, name: string): Promise<void> {
  await runMigrations(url);
  const entities = [path.join(import.meta.dirname, '..', '**', '*.entity.js')];
  const dataSource = new DataSource(dataSourceOptions(url, { entities }));
  await dataSource.initialize();
  try {
    const sql = await dataSource.driver.createSchemaBuilder().log();
    if (sql.upQueries.length === 0) {
      console.log('The entities match the schema: nothing to generate.');
      return;
    }
    const timestamp = Date.now();
    const render = (queries: { query: string; parameters?: unknown[] }[]) =>
      queries
        .map((q) => `    await db.query(${JSON.stringify(q.query)}${q.parameters?.length ? `, ${JSON.stringify(q.parameters)}` : ''});`)
        .join('\n');
    const file = path.join(process.cwd(), 'migrations', `${timestamp}-${name}.ts`);
    await writeFile(
      file,
      `import type { MigrationInterface, QueryRunner } from 'typeorm';\n\n` +
        `export class ${name}${timestamp} implements MigrationInterface {\n  name = '${name}${timestamp}';\n\n` +
        `  async up(db: QueryRunner): Promise<void> {\n${render(sql.upQueries)}\n  }\n\n` +
        `  async down(db: QueryRunner): Promise<void> {\n${render([...sql.downQueries].reverse())}\n  }\n}\n`,
    );
    console.log(`Wrote ${path.relative(process.cwd(), file)}; add ${name}${timestamp} to migrations/index.ts.`);
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
