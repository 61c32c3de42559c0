import { hostname, userInfo } from 'node:os';
import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { type AuditedBy, AuditService } from '../common/audit.service.js';
import { type Clock, SystemClock } from '../common/clock.js';
import { FieldCipher } from '../common/crypto/field-cipher.js';
import { type AppConfig, loadConfig } from '../config/app-config.js';
import { withDataSource } from '../database/cli-database.js';

/** What a command works with: the typed config, one database connection, and the services' collaborators. */
export interface CliContext {
  config: AppConfig;
  db: DataSource;
  clock: Clock;
  cipher: FieldCipher;
  audit: AuditService;
  by: AuditedBy;
}

/**
 * The audit log names a staff account for API actions; an operator at the command line acts with
 * the server's own access and has none, so the entry carries role `cli` and the OS account and
 * host in place of the client address.
 */
export function cliActor(): AuditedBy {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // A uid with no passwd entry (some containers) has no name.
  }
  return { staff: { staffId: null, role: 'cli' }, clientAddress: `cli:${user}@${hostname()}` };
}

/** Loads the configuration before anything else happens (a prompt, a database start); a ConfigError exits 78. */
export function loadCliConfig(): AppConfig {
  // Nest's default console logger would print debug lines from the services to stdout.
  Logger.overrideLogger(['error', 'fatal']);
  return loadConfig();
}

export async function withCli<T>(config: AppConfig, work: (cli: CliContext) => Promise<T>): Promise<T> {
  return withDataSource(config, (db) => {
    const clock = new SystemClock();
    return work({
      config,
      db,
      clock,
      cipher: new FieldCipher(config.security.encryptionKey, config.security.previousEncryptionKeys),
      audit: new AuditService(db, clock),
      by: cliActor(),
    });
  });
}
