import { Command } from 'commander';
import { registerEventCommands } from '../cli/commands/events.js';
import { loadEnvFile } from '../config/env-file.js';

// `npm run demo:release` on its own, through the same command the vigil CLI registers.
loadEnvFile();
const program = new Command('vigil');
registerEventCommands(program);
await program.parseAsync(['demo:release', ...process.argv.slice(2)], { from: 'user' });
