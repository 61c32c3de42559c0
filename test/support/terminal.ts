import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const CLI = path.resolve('dist/src/cli/vigil.js');
/** util-linux `script` (Debian's bsdutils, always installed) gives the command a pseudo-terminal of its own. */
export const SCRIPT = '/usr/bin/script';

export interface TerminalAnswer {
  /** Typed once this has appeared on the terminal since the previous answer. */
  after: string;
  type: string;
}

export interface TerminalRun {
  code: number | null;
  /** Everything the terminal showed: stdout, stderr and any echo of what was typed. */
  screen: string;
}

/**
 * The built `vigil` command on a pseudo-terminal, as an operator at a keyboard runs it: stdin,
 * stdout and stderr are the terminal, and each answer is typed when its prompt shows.
 */
export function runVigilInTerminal(args: string[], env: Record<string, string>, answers: TerminalAnswer[]): Promise<TerminalRun> {
  if (!existsSync(CLI)) throw new Error('dist/src/cli/vigil.js is missing: build with nest build first');
  if (!existsSync(SCRIPT)) throw new Error(`${SCRIPT} is missing: install util-linux's script (Debian: bsdutils)`);
  const command = [process.execPath, CLI, ...args].map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn(SCRIPT, ['--quiet', '--flush', '--return', '--command', command, '/dev/null'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', SHELL: '/bin/sh', NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  let seen = 0;
  let next = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    screen += chunk.toString();
    while (next < answers.length) {
      const at = screen.indexOf(answers[next].after, seen);
      if (at < 0) break;
      seen = at + answers[next].after.length;
      child.stdin.write(answers[next++].type);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (screen += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the command did not finish; the terminal showed:\n${screen}`));
    }, 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code, screen });
    });
  });
}
