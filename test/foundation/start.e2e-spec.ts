import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/database/embedded-postgres.launcher.js';
import { BUILD_OUTPUT, satisfiesMinimum, staleReason } from '../../scripts/build-state.mjs';
import { waitFor } from '../support/worker-process.js';

/** Processes whose command line names this folder: a postgres left behind shows here. */
function processesUsing(folder: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (command.includes(folder)) found.push(`${pid}: ${command}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Started in a process group of its own, as a shell starts a foreground job, so Ctrl-C can be imitated. */
function startGroup(command: string, args: string[], dataDir: string, port: number): ChildProcess & { output: string[] } {
  const child = spawn(command, args, {
    cwd: path.resolve('.'),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  }) as ChildProcess & { output: string[] };
  child.output = [];
  child.stdout?.on('data', (chunk: Buffer) => child.output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => child.output.push(chunk.toString()));
  return child;
}

const folders: string[] = [];
const groups: ChildProcess[] = [];
afterAll(() => {
  for (const child of groups) {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  }
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** Waits for readiness, then sends SIGINT to the whole group as a terminal's Ctrl-C does. */
async function interruptWhenReady(child: ChildProcess & { output: string[] }, port: number): Promise<{ code: number | null; ms: number }> {
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.status === 200,
    120_000,
    () => Promise.resolve(child.output.join('').slice(-3000)),
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const sentAt = Date.now();
  process.kill(-child.pid!, 'SIGINT');
  const code = await exited;
  return { code, ms: Date.now() - sentAt };
}

describe('#15 npm start and Ctrl-C', () => {
  it('#15 npm start runs the current build without rebuilding; Ctrl-C stops Vigil and its embedded PostgreSQL cleanly', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'vigil-start-'));
    folders.push(folder);
    const dataDir = path.join(folder, 'data');
    const port = await freePort();
    const npm = startGroup('npm', ['start'], dataDir, port);
    groups.push(npm);
    const { code, ms } = await interruptWhenReady(npm, port);
    const output = npm.output.join('');
    expect(output).toContain('The build is current');
    expect(output).not.toContain('Building Vigil');
    expect(code, output.slice(-3000)).toBe(0);
    expect(ms).toBeLessThan(20_000);
    expect(output).not.toMatch(/\n\s+at /);
    expect(output).not.toMatch(/npm (error|ERR)/);
    expect(processesUsing(dataDir)).toEqual([]);
  }, 180_000);

  it('#15 Ctrl-C on node dist/src/main.js, which also reaches the embedded PostgreSQL, still stops cleanly', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'vigil-start-'));
    folders.push(folder);
    const dataDir = path.join(folder, 'data');
    const port = await freePort();
    const node = startGroup(process.execPath, [BUILD_OUTPUT], dataDir, port);
    groups.push(node);
    const { code, ms } = await interruptWhenReady(node, port);
    const output = node.output.join('');
    expect(code, output.slice(-3000)).toBe(0);
    expect(ms).toBeLessThan(20_000);
    expect(output).not.toMatch(/\n\s+at /);
    expect(processesUsing(dataDir)).toEqual([]);
  }, 180_000);
});

describe('#15 npm start: when it builds', () => {
  const project = () => {
    const root = mkdtempSync(path.join(tmpdir(), 'vigil-build-state-'));
    folders.push(root);
    mkdirSync(path.join(root, 'src/web'), { recursive: true });
    mkdirSync(path.join(root, 'dist/src'), { recursive: true });
    writeFileSync(path.join(root, 'src/web/page.ts'), '');
    writeFileSync(path.join(root, 'package.json'), '{}');
    return root;
  };
  const age = (file: string, secondsAgo: number) => {
    const at = new Date(Date.now() - secondsAgo * 1000);
    utimesSync(file, at, at);
  };

  it('says there is no build yet, then nothing once the build is newer than every source, then which source changed', () => {
    const root = project();
    rmSync(path.join(root, 'dist'), { recursive: true });
    expect(staleReason(root)).toBe('there is no build yet (dist/src/main.js is missing)');
    mkdirSync(path.join(root, 'dist/src'), { recursive: true });
    writeFileSync(path.join(root, BUILD_OUTPUT), '');
    age(path.join(root, 'src/web/page.ts'), 60);
    // Older than page.ts by more than the clock can tick between two calls: the newest input is the one named.
    age(path.join(root, 'package.json'), 90);
    expect(staleReason(root)).toBeUndefined();
    age(path.join(root, BUILD_OUTPUT), 120);
    expect(staleReason(root)).toBe(`${path.join('src', 'web', 'page.ts')} changed since the last build`);
  });

  it('checks the Node version against engines', () => {
    expect(satisfiesMinimum('20.12.0', '>=20.12.0')).toBe(true);
    expect(satisfiesMinimum('20.20.2', '>=20.12.0')).toBe(true);
    expect(satisfiesMinimum('22.1.0', '>=20.12.0')).toBe(true);
    expect(satisfiesMinimum('20.11.9', '>=20.12.0')).toBe(false);
    expect(satisfiesMinimum('18.20.0', '>=20.12.0')).toBe(false);
    // #15: the form the dependencies' own engines take.
    const range = '^20.19.0 || ^22.13.0 || >=24.11.0';
    expect(['20.19.0', '20.20.2', '22.13.0', '22.22.3', '24.11.0', '26.1.0'].map((v) => satisfiesMinimum(v, range))).toEqual(
      Array(6).fill(true),
    );
    expect(['20.18.3', '21.7.0', '22.12.0', '23.11.0', '24.10.0'].map((v) => satisfiesMinimum(v, range))).toEqual(Array(5).fill(false));
    const { engines } = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(satisfiesMinimum(process.versions.node, engines.node)).toBe(true);
  });
});
