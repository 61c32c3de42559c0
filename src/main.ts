import 'reflect-metadata';
import v8 from 'node:v8';
import { pino } from 'pino';
import { createApp } from './app.factory.js';
import { BootstrapAdminService } from './auth/bootstrap-admin.service.js';
import { type AppConfig, ConfigError, loadConfig } from './config/app-config.js';
import { loadEnvFile } from './config/env-file.js';
import { EMBEDDED_DATABASE } from './database/cli-database.js';
import { type RunningPostgres, startEmbeddedPostgres } from './database/embedded-postgres.launcher.js';
import { ensureDatabase } from './database/ensure-database.js';
import { runMigrations } from './database/migrate.js';
import { ciphertextUpgradeStep } from './registrations/key-rotation.js';
import { FieldCipher } from './common/crypto/field-cipher.js';
import { demoInstructions, recordDemoAddress, seedDemo, type SeededDemo } from './demo/demo-seeder.js';

const SHUTDOWN_GRACE_MS = 30_000;

/**
 * V8 collects the old generation once it has grown to a multiple of what survived the last
 * collection, and with a small live set on a large machine it lets that multiple run high: a big
 * roster's finished slices (promoted because they live across awaited statements) then sit as
 * garbage and take the process far past its live size (docs/BENCHMARKS.md). A lower factor collects
 * sooner for a little CPU, with no cap that could kill the process mid-alert. A flag given on the
 * command line wins.
 */
const HEAP_GROWING_PERCENT = 20;
if (!process.execArgv.some((flag) => flag.startsWith('--heap-growing-percent'))) {
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

async function main(): Promise<void> {
  const envFile = loadEnvFile();
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Vigil cannot start. ${error.message}\nSee .env.example for every setting.\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  // Until Nest's logger takes over, boot lines are JSON from the same library.
  const logger = pino({ level: config.logLevel, base: { context: 'Vigil' } });
  if (envFile) logger.info(`Settings not in the environment were read from ${envFile}`);
  for (const warning of config.warnings) logger.warn(warning);

  let embedded: RunningPostgres | undefined;
  let url = config.database.url;
  if (!url) {
    logger.info(`No DATABASE_URL: starting the embedded PostgreSQL in ${config.database.dataDir}`);
    embedded = await startEmbeddedPostgres({
      dataDir: config.database.dataDir,
      log: config.logLevel === 'debug' || config.logLevel === 'trace' ? (line) => logger.debug(line) : undefined,
      warn: (line) => logger.warn(line),
    });
    await ensureDatabase(embedded.url(), EMBEDDED_DATABASE);
    url = embedded.url(EMBEDDED_DATABASE);
  }
  if (config.database.migrationsRun) {
    const cipher = new FieldCipher(config.security.encryptionKey, config.security.previousEncryptionKeys);
    const applied = await runMigrations(
      config.database.sessionUrl ?? url,
      ciphertextUpgradeStep(cipher, (result) => logger.info({ ...result }, 'Stored secrets re-encrypted, each bound to its row')),
    );
    if (applied.length) logger.info(`Applied migrations: ${applied.join(', ')}`);
  }

  const app = await createApp({ ...config, database: { ...config.database, url } });
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info(`${signal} received: finishing in-flight work, then stopping`);
    setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS).unref();
    await app.close();
    await embedded?.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  // Every interface, as before on Express (Fastify alone would listen on localhost only); IPv4 where IPv6 is off.
  await app.listen(config.port, '::').catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EAFNOSUPPORT' && error.code !== 'EADDRNOTAVAIL') throw error;
    return app.listen(config.port, '0.0.0.0');
  });
  const base = (await app.getUrl()).replace('[::1]', 'localhost').replace('127.0.0.1', 'localhost');
  let demo: SeededDemo | undefined;
  try {
    demo = await seedDemo(app, config);
    if (demo) {
      recordDemoAddress(config, base);
      if (demo.created) logger.info('Seeded the first-run demo (DEMO=false turns it off)');
    }
  } catch (error) {
    // A demo that cannot be made must not keep a working Vigil from serving.
    logger.warn(`The first-run demo could not be seeded: ${error instanceof Error ? error.message : String(error)}`);
  }
  const adminEmail = config.role === 'worker' ? undefined : app.get(BootstrapAdminService).adminEmail;
  process.stdout.write(
    `\n  Vigil (${config.role}) is listening on ${base}\n` +
      (config.role === 'worker' ? '' : `  Victim portal: ${base}/en/ (${base}/es/)   staff console: ${base}/console/\n`) +
      `  API docs: ${base}/docs   readiness: ${base}/health/ready\n` +
      (adminEmail ? `  Admin login: ${base}/console/login or POST ${base}/v1/auth/login, as ${adminEmail}\n` : '') +
      (demo ? demoInstructions(demo, config.publicBaseUrl) : '') +
      (embedded ? `  Database: embedded PostgreSQL in ${config.database.dataDir} (port ${embedded.port})\n` : '') +
      '\n',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`Vigil failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
