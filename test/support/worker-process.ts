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
export function spawnVigil(env: Record<string, string>, options: { cwd?: string } = {}): ChildProcess & { output: string[] } {
  if (!existsSync(MAIN)) throw new Error('dist/src/main.js is missing: npm test builds it before the suites run');
  const child = spawn(process.execPath, [MAIN], {
    cwd: options.cwd,
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

/** The port a Vigil started with PORT=0 printed in its banner, once it is listening. */
export async function listeningPort(child: ChildProcess & { output: string[] }, timeoutMs = 60_000): Promise<number> {
  let port = 0;
  await waitFor(
    () => {
      port = Number(/is listening on http:\/\/[^:]+:(\d+)/.exec(child.output.join(''))?.[1] ?? 0);
      return Promise.resolve(port > 0 || child.exitCode !== null);
    },
    timeoutMs,
    () => Promise.resolve(child.output.join('').slice(-3000)),
  );
  if (!port) throw new Error(`Vigil exited before listening: ${child.output.join('').slice(-3000)}`);
  return port;
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
