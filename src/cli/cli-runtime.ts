import { hostname, userInfo } from 'node:os';
import { Logger } from '@nestjs/common';
import type { Command } from 'commander';
import type { DataSource } from 'typeorm';
import { type AuditedBy, AuditService } from '../common/audit.service.js';
import { type Clock, SystemClock } from '../common/clock.js';
import { FieldCipher } from '../common/crypto/field-cipher.js';
import { type AppConfig, loadConfig } from '../config/app-config.js';
import { withDataSource } from '../database/cli-database.js';

/** sysexits-style codes, as main.ts exits 78 on bad configuration. */
export const EXIT = { ok: 0, failure: 1, usage: 2, config: 78 } as const;

/** Bad input that commander could not see (an argument's shape): exits 2, like commander's own. */
export class UsageError extends Error {}

/** An expected failure, said in one line: exits 1. */
export class CliFailure extends Error {}

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

/** A command's help ends with an example, so `vigil <command> --help` shows how it is called. */
export function withExample(command: Command, ...examples: string[]): Command {
  return command.addHelpText('after', `\nExample${examples.length > 1 ? 's' : ''}:\n${examples.map((line) => `  $ ${line}`).join('\n')}\n`);
}

export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}
