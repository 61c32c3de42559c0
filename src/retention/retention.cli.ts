import 'reflect-metadata';
import { Command } from 'commander';
import { registerRetentionCommands } from '../cli/commands/retention.js';

/** `npm run retention:run [-- --dry-run]`: the same command as `vigil retention:run`, without the `vigil` bin. */
const program = new Command('retention').exitOverride();
registerRetentionCommands(program);
program.parseAsync(['retention:run', ...process.argv.slice(2)], { from: 'user' }).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
