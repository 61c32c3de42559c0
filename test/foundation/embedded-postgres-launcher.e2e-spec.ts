import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningPostgres, startEmbeddedPostgres } from '../../src/database/embedded-postgres.launcher.js';

const SETTINGS = { fsync: 'off', synchronous_commit: 'off' };

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

// Each step starts a real cluster in one folder, in order: seconds apiece.
describe('#15 a first npm start killed during initdb does not leave DATA_DIR unusable', { timeout: 120_000 }, () => {
  let dataDir: string;
  let clusterDir: string;
  let credentials: string;
  let running: RunningPostgres | undefined;
  const start = () => startEmbeddedPostgres({ dataDir, settings: SETTINGS });

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'vigil-half-'));
    clusterDir = path.join(dataDir, 'pg');
    credentials = path.join(dataDir, 'embedded-pg.json');
  });
  afterAll(async () => {
    await running?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('#15 a cluster left half made by a killed first start (its marker, no credentials) is made again and serves', async () => {
    // What a kill in the middle of initdb leaves: part of a cluster, and the marker written before initdb.
    await mkdir(path.join(clusterDir, 'base', '1'), { recursive: true });
    await writeFile(path.join(clusterDir, 'PG_VERSION'), '18\n');
    await writeFile(path.join(dataDir, 'embedded-pg.initialising'), 'interrupted\n');

    running = await start();
    expect(await query(running.url(), 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect(existsSync(credentials)).toBe(true);
    expect(existsSync(path.join(dataDir, 'embedded-pg.initialising'))).toBe(false);
    await running.stop();
    running = undefined;

    // Started again as any later npm start: the same cluster, signed in with the saved credentials.
    running = await start();
    expect(await query(running.url(), 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await running.stop();
    running = undefined;
  });

  it('#15 a cluster with no credentials and no marker is never deleted: the error says what to delete, or that its data must be kept', async () => {
    // What an interrupted first start of an older Vigil left: a cluster, no credentials, no marker.
    await rename(credentials, `${credentials}.aside`);
    const unfinished = await start().then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(unfinished).toContain(`has no credentials file (${credentials})`);
    expect(unfinished).toContain(`rm -rf '${clusterDir}'`);
    expect(existsSync(path.join(clusterDir, 'PG_VERSION'))).toBe(true);

    // A cluster that served Vigil and lost its credentials file: it holds a database.
    await rename(`${credentials}.aside`, credentials);
    running = await start();
    await query(running.url(), 'CREATE DATABASE kept');
    await query(running.url('kept'), `CREATE TABLE victim_data AS SELECT 'keep me' AS value`);
    await running.stop();
    running = undefined;
    await rename(credentials, `${credentials}.aside`);
    const lost = await start().then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(lost).toContain(`Do not delete ${clusterDir}`);
    expect(lost).not.toContain('rm -rf');

    await rename(`${credentials}.aside`, credentials);
    running = await start();
    expect(await query(running.url('kept'), 'SELECT value FROM victim_data')).toEqual([{ value: 'keep me' }]);
  });
});

// A marker beside a cluster is not enough to delete it: only a cluster that provably never served,
// whose first start is provably over, is made again.
describe(
  '#15 the launcher never deletes a cluster that may hold data, or one another process is still making',
  { timeout: 120_000 },
  () => {
    const folders: string[] = [];
    const folder = async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'vigil-keep-'));
      folders.push(dir);
      return dir;
    };
    const refusal = (dataDir: string) =>
      startEmbeddedPostgres({ dataDir, settings: SETTINGS }).then(
        async (running) => {
          await running.stop();
          return 'started';
        },
        (error: Error) => error.message,
      );
    afterAll(async () => {
      for (const dir of folders) await rm(dir, { recursive: true, force: true });
    });

    it("#15 a stale marker beside a cluster that served Vigil (a database beyond initdb's own) and lost its credentials: refused, data kept", async () => {
      const dataDir = await folder();
      const credentials = path.join(dataDir, 'embedded-pg.json');
      const running = await startEmbeddedPostgres({ dataDir, settings: SETTINGS });
      await query(running.url(), 'CREATE DATABASE kept');
      await query(running.url('kept'), `CREATE TABLE victim_data AS SELECT 'keep me' AS value`);
      await running.stop();
      // A marker left by a failed start (say, one run as another user that could not read the cluster), then the credentials lost.
      await writeFile(path.join(dataDir, 'embedded-pg.initialising'), '999999999\n');
      await rename(credentials, `${credentials}.aside`);

      expect(await refusal(dataDir)).toContain('Do not delete');
      await rename(`${credentials}.aside`, credentials);
      const again = await startEmbeddedPostgres({ dataDir, settings: SETTINGS });
      try {
        expect(await query(again.url('kept'), 'SELECT value FROM victim_data')).toEqual([{ value: 'keep me' }]);
      } finally {
        await again.stop();
      }
    });

    it('#15 a cluster folder that cannot be read is an error, not a fresh start: no marker is written', async () => {
      const dataDir = await folder();
      // Not a folder at all: reading it fails as an unreadable one does (root reads any folder, so a mode would not show it).
      await writeFile(path.join(dataDir, 'pg'), 'not a cluster\n');
      const message = await refusal(dataDir);
      expect(message).not.toBe('started');
      expect(message).toContain(path.join(dataDir, 'pg'));
      expect(existsSync(path.join(dataDir, 'embedded-pg.initialising'))).toBe(false);
    });

    it('#15 a first start still making the cluster (its marker names a live process) is left alone: a second start is refused', async () => {
      const dataDir = await folder();
      const clusterDir = path.join(dataDir, 'pg');
      await mkdir(path.join(clusterDir, 'base', '1'), { recursive: true });
      await writeFile(path.join(clusterDir, 'PG_VERSION'), '18\n');
      const initdb = spawn('sleep', ['60']);
      try {
        await writeFile(path.join(dataDir, 'embedded-pg.initialising'), `${initdb.pid}\n`);
        const message = await refusal(dataDir);
        expect(message).toContain(`process ${initdb.pid}`);
        expect(existsSync(path.join(clusterDir, 'PG_VERSION'))).toBe(true);
      } finally {
        initdb.kill();
      }
    });
  },
);
