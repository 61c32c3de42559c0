import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';

/**
 * Reads `.env` from the working directory into `env`. A variable already set, even to an empty
 * value, wins over the file, as with `node --env-file`: an operator's or orchestrator's setting
 * must never be replaced by a file left in the folder. Parsing is Node's own (`util.parseEnv`), so
 * the syntax is what `--env-file` accepts. Returns the file read, or undefined when there is none.
 */
export function loadEnvFile(env: NodeJS.ProcessEnv = process.env, dir = process.cwd()): string | undefined {
  const file = path.join(dir, '.env');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (env[name] === undefined) env[name] = value;
  }
  return file;
}
