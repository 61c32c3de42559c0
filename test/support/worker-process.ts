import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const MAIN = path.resolve('dist/src/main.js');

/** Every process a test started and has not stopped. */
const spawned = new Set<ChildProcess>();

/** For afterAll: a test that timed out never reached its own stopVigil, and its workers would outlive the run. */
export async function stopAllVigils(): Promise<void> {
  await Promise.all([...spawned].map((child) => stopVigil(child, 'SIGKILL')));
}

/**
 * A real Vigil process (the built app, as `npm start` runs it), for tests that need several or need
 * to kill one. NODE_ENV=test, as a test runner's child inherits it: it must not silence delivery.
 */
export function spawnVigil(env: Record<string, string>): ChildProcess & { output: string[] } {
  if (!existsSync(MAIN)) throw new Error('dist/src/main.js is missing: npm test builds it before the suites run');
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      PORT: '0',
      DEV_OUTBOX: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as ChildProcess & { output: string[] };
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  child.output = [];
  child.stdout?.on('data', (chunk: Buffer) => child.output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => child.output.push(chunk.toString()));
  return child;
}

export async function stopVigil(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
}

/** Polls until `check` is true; fails with `describe()` after the timeout. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, describe: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out: ${await describe()}`);
}
