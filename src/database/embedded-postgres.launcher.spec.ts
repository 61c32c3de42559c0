import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { importEmbeddedPostgres, startEmbeddedPostgres, unixSocketDirFor } from './embedded-postgres.launcher.js';

describe('importEmbeddedPostgres', () => {
  it('leaves no exit-code-overriding or signal listeners behind', async () => {
    const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'beforeExit', 'message', 'exit'] as const;
    const before = events.map((event) => process.listenerCount(event));
    await importEmbeddedPostgres();
    expect(events.map((event) => process.listenerCount(event))).toEqual(before);
  });
});

describe('#12 the embedded cluster over a Unix socket', () => {
  const folders: string[] = [];
  afterAll(async () => {
    await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
  });

  it('keeps the socket path within what a Unix socket address holds', () => {
    expect(unixSocketDirFor('/srv/vigil/.data/pg', 5432)).toBe('/srv/vigil/.data/pg');
    const deep = `/${'d'.repeat(90)}/pg`;
    expect(path.join(deep, '.s.PGSQL.5432')).toHaveLength(108);
    expect(unixSocketDirFor(deep, 5432)).toBeUndefined();
    expect(unixSocketDirFor(deep.slice(1), 5432)).toBe(deep.slice(1));
  });

  async function clientAddress(dataDir: string): Promise<{ url: string; address: string | null }> {
    const embedded = await startEmbeddedPostgres({ dataDir, persistent: false });
    try {
      const client = new pg.Client({ connectionString: embedded.url() });
      await client.connect();
      try {
        const rows = (await client.query<{ address: string | null }>('SELECT inet_client_addr() AS address')).rows;
        return { url: embedded.url(), address: rows[0].address };
      } finally {
        await client.end();
      }
    } finally {
      await embedded.stop();
    }
  }

  it('connects through the socket, and over TCP when the data folder is too deep for one', async () => {
    const short = await mkdtemp(path.join(tmpdir(), 'vigil-sock-'));
    folders.push(short);
    const viaSocket = await clientAddress(short);
    expect(viaSocket.url).toContain(`?host=${encodeURIComponent(path.join(short, 'pg'))}`);
    expect(viaSocket.address).toBeNull();

    const base = await mkdtemp(path.join(tmpdir(), 'vigil-deep-'));
    folders.push(base);
    const deep = path.join(base, 'd'.repeat(110 - base.length));
    const viaTcp = await clientAddress(deep);
    expect(viaTcp.url).not.toContain('host=');
    expect(viaTcp.address).toBe('127.0.0.1');
  }, 120_000);
});
