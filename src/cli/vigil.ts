#!/usr/bin/env node
import 'reflect-metadata';
import { Command } from 'commander';
import { loadEnvFile } from '../config/env-file.js';
import { EXIT, processIo, reportError } from './cli-io.js';
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
  // Each command ends through processIo itself; this is for the program's own (an unknown command, top-level --help).
  .exitOverride();

registerStaffCommands(program, processIo);
registerSourceCommands(program, processIo);
registerDeliveryCommands(program, processIo);
registerKeyCommands(program, processIo);
registerEventCommands(program, processIo);
registerRetentionCommands(program, processIo);

program.parseAsync(process.argv).then(
  () => processIo.exit(EXIT.ok),
  (error: unknown) => processIo.exit(reportError(processIo, error)),
);
