import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSource, event, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const MB = 1024 * 1024;
const CHUNK = 64 * 1024;

/**
 * Starts an upload of `total` bytes and keeps writing chunks until the server answers (or the body
 * is all sent). Returns the answer and how many bytes had been written when it arrived.
 */
function upload(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  total: number,
): Promise<{ status: number; contentType: string; body: string; writtenWhenAnswered: number }> {
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { ...headers, 'Content-Length': String(total) } });
    req.on('response', (res) => {
      answered = true;
      const writtenWhenAnswered = written;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type']),
          body: Buffer.concat(chunks).toString('utf8'),
          writtenWhenAnswered,
        }),
      );
      res.on('error', reject);
    });
    // The server may close its side once it has answered; writes after that fail, which is the point.
    req.on('error', (error) => (answered ? undefined : reject(error)));
    const chunk = Buffer.alloc(CHUNK, 0x20); // spaces: valid JSON whitespace, should it ever be parsed
    const pump = () => {
      while (!answered && written < total) {
        const size = Math.min(CHUNK, total - written);
        written += size;
        if (!req.write(size === CHUNK ? chunk : chunk.subarray(0, size))) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    req.flushHeaders();
    pump();
  });
}

describe('#11.6 an unauthenticated request is refused before its body is read', () => {
  let t: TestApp;
  let source: TestSource;
  let port: number;
  /** What the server had read from the connection when it finished answering, by path. */
  const answered = new Map<string, (bytesRead: number) => void>();
  const readWhenAnswered = (path: string) => new Promise<number>((resolve) => answered.set(path, resolve));
  beforeAll(async () => {
    t = await startTestApp();
    source = await createSource(t);
    const server = t.app.getHttpServer();
    port = (server.address() as AddressInfo).port;
    server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const path = req.url!;
      res.on('finish', () => answered.get(path)?.(req.socket.bytesRead));
    });
  });
  afterAll(() => t.close());

  it('#11.6 a 40 MB roster with a bad key is answered 401 problem+json with less than 1 MB of it read, not after 40 MB', async () => {
    const read = readWhenAnswered('/v1/facilities/HCJ-1/roster');
    const res = await upload(
      port,
      'PUT',
      '/v1/facilities/HCJ-1/roster',
      { Authorization: 'Bearer vgl_not-a-real-key', 'Content-Type': 'application/json' },
      40 * MB,
    );
    expect(await read).toBeLessThan(MB);
    expect(res.writtenWhenAnswered).toBeLessThan(40 * MB);
    expect(res.status).toBe(401);
    expect(res.contentType).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(res.body)).toMatchObject({ status: 401, code: 'SOURCE_AUTH_INVALID' });
  });

  it('#11.6 a 4 MB batch of events without any key is answered 401 with less than 1 MB of it read', async () => {
    const read = readWhenAnswered('/v1/custody-events');
    const res = await upload(port, 'POST', '/v1/custody-events', { 'Content-Type': 'application/json' }, 4 * MB);
    expect(await read).toBeLessThan(MB);
    expect(res.writtenWhenAnswered).toBeLessThan(4 * MB);
    expect(res.status).toBe(401);
    expect(res.contentType).toMatch(/^application\/problem\+json/);
  });

  it('#11.6 a valid key still reaches validation and ingestion, and the server stays healthy', async () => {
    expect((await postEvents(t, source, event())).status).toBe(202);
    expect((await postEvents(t, source, { events: [] })).status).toBe(422);
    expect((await t.http().get('/health/ready')).status).toBe(200);
  });
});
