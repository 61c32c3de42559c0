#!/usr/bin/env node
import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { DomainError } from '../common/problem/domain-error.js';
import { ConfigError } from '../config/app-config.js';
import { loadEnvFile } from '../config/env-file.js';
import { CliFailure, EXIT, UsageError } from './cli-runtime.js';
import { registerDeliveryCommands } from './commands/deliveries.js';
import { registerEventCommands } from './commands/events.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerRetentionCommands } from './commands/retention.js';
import { registerSourceCommands } from './commands/sources.js';
import { registerStaffCommands } from './commands/staff.js';

/**
 * `npx vigil <command>`: operator tasks against the configured database (DATABASE_URL, or the
 * embedded one in DATA_DIR, shared with a running Vigil). Each file in commands/ registers its own.
 */
// As for npm start: a .env in the working directory, under what the environment already sets.
loadEnvFile();

const program = new Command('vigil')
  .description('Vigil operator commands. Configuration comes from the environment, as for `npm start`.')
  .showHelpAfterError('(run with --help for usage)')
  // Set before the commands are added, which inherit it: commander's own errors then reach the catch below.
  .exitOverride();

registerStaffCommands(program);
registerSourceCommands(program);
registerDeliveryCommands(program);
registerKeyCommands(program);
registerEventCommands(program);
registerRetentionCommands(program);

program.parseAsync(process.argv).then(
  () => process.exit(process.exitCode ?? EXIT.ok),
  (error: unknown) => process.exit(report(error)),
);

/** One line on stderr and the exit code for it; no stack, no values bound to a failed query. */
function report(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage; // commander has printed it
  if (error instanceof ConfigError) {
    process.stderr.write(`Vigil cannot run this command. ${error.message}\nSee .env.example for every setting.\n`);
    return EXIT.config;
  }
  if (error instanceof UsageError) {
    process.stderr.write(`error: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof DomainError) {
    process.stderr.write(`error: ${error.message} (${error.code})\n`);
    return EXIT.failure;
  }
  const message = error instanceof Error ? error.message || (error as NodeJS.ErrnoException).code || error.name : String(error);
  process.stderr.write(`error: ${error instanceof CliFailure ? message : message.split('\n')[0]}\n`);
  return EXIT.failure;
}
