import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSource, personWith, signature, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const MB = 1024 * 1024;
const CHUNK = 64 * 1024;

interface Answer {
  status: number;
  contentType: string;
  body: string;
  /** Bytes the client had written when the answer's headers arrived. */
  writtenWhenAnswered: number;
}

/** In a body: stop writing, without ending the body, and wait for the answer. */
const HOLD = null;

/**
 * A `PUT` whose body is written chunk by chunk from `chunks` (chunked transfer unless the headers
 * give a Content-Length), stopping as soon as the server answers or at HOLD. Holding keeps the
 * client from racing the server's close with more writes (EPIPE) once the answer is due.
 */
function put(port: number, path: string, headers: Record<string, string>, chunks: Iterable<Buffer | typeof HOLD>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path, headers });
    req.on('response', (res) => {
      answered = true;
      const writtenWhenAnswered = written;
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type']),
          body: Buffer.concat(parts).toString('utf8'),
          writtenWhenAnswered,
        }),
      );
      res.on('error', reject);
    });
    // The server closes its side once it has refused a body; writes after that fail, which is the point.
    req.on('error', (error) => (answered ? undefined : reject(error)));
    const source = chunks[Symbol.iterator]();
    // One chunk per turn of the event loop, so an early answer is read before the next write.
    const pump = () => {
      if (answered) return;
      const next = source.next();
      if (next.done) return void req.end();
      if (next.value === HOLD) return;
      written += next.value.length;
      if (req.write(next.value)) setImmediate(pump);
      else req.once('drain', pump);
    };
    req.flushHeaders();
    pump();
  });
}

function* inChunks(body: Buffer, size = CHUNK): Generator<Buffer> {
  for (let at = 0; at < body.length; at += size) yield body.subarray(at, at + size);
}

/** `{"asOf":…,"people":[` then `count` people of about 300 bytes each, then `]}` unless `close` is false. */
function* rosterBody(prefix: string, count: number, close = true): Generator<Buffer> {
  yield Buffer.from(`{"asOf":"${new Date(Date.now() - 60_000).toISOString()}","people":[`);
  for (let i = 0; i < count; i += 1000) {
    const slice = Array.from({ length: Math.min(1000, count - i) }, (_, j) =>
      JSON.stringify(personWith(`${prefix}-${i + j}`, { bookingNumber: `B${i + j}`, housing: { unit: 'C', bed: j % 40 } })),
    );
    yield Buffer.from((i ? ',' : '') + slice.join(','));
  }
  if (close) yield Buffer.from(']}');
}

describe('#12 a roster is read as it streams in', () => {
  let t: TestApp;
  let source: TestSource;
  let signing: TestSource;
  let port: number;
  const auth = (s: TestSource) => ({ Authorization: `Bearer ${s.apiKey}`, 'Content-Type': 'application/json' });
  const snapshots = async (code: string) =>
    (await t.db.query(`SELECT count(*)::int AS n FROM roster_snapshot r JOIN facility f ON f.id = r.facility_id WHERE f.code = $1`, [code]))
      .rows[0].n as number;
  /** A follow-up roster for the facility: 202 as its baseline proves nothing of the refused one was recorded. */
  const baselineStill = async (code: string) => {
    const res = await put(port, `/v1/facilities/${code}/roster`, auth(source), rosterBody(`${code}-after`, 2));
    expect(res.status).toBe(202);
    expect(JSON.parse(res.body)).toMatchObject({ baseline: true, booked: 0, unchanged: 2 });
  };

  beforeAll(async () => {
    t = await startTestApp();
    source = await createSource(t);
    signing = await createSource(t, { signingRequired: true });
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(() => t.close());

  it('#12 a chunked roster with vendor fields is accepted and recorded', async () => {
    const res = await put(port, '/v1/facilities/STREAM-1/roster', auth(source), rosterBody('S1', 2500));
    expect(res.status).toBe(202);
    expect(JSON.parse(res.body)).toMatchObject({ baseline: true, unchanged: 2500, held: false });
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS n FROM custody_event e JOIN roster_snapshot r ON r.id = e.roster_snapshot_id
        JOIN facility f ON f.id = r.facility_id WHERE f.code = 'STREAM-1' AND e.type = 'BOOKED'`,
    );
    expect(rows[0].n).toBe(2500);
  });

  it('#12 a gzip-compressed roster goes through the same inflation as buffered bodies', async () => {
    const body = gzipSync(Buffer.concat([...rosterBody('GZ', 300)]));
    const res = await put(
      port,
      '/v1/facilities/STREAM-GZ/roster',
      { ...auth(source), 'Content-Encoding': 'gzip', 'Content-Length': String(body.length) },
      inChunks(body, 4096),
    );
    expect(res.status).toBe(202);
    expect(JSON.parse(res.body)).toMatchObject({ baseline: true, unchanged: 300 });
  });

  it('#12 a signed roster is accepted, and the same message again is refused as a replay', async () => {
    const raw = Buffer.concat([...rosterBody('SIG', 50)]);
    const webhookId = `msg_${randomUUID()}`;
    const headers = { ...auth(signing), ...signature(signing.signingSecret, raw.toString('utf8'), webhookId) };
    const first = await put(port, '/v1/facilities/STREAM-SIG/roster', headers, inChunks(raw, 1000));
    expect(first.status).toBe(202);
    const replayed = await put(port, '/v1/facilities/STREAM-SIG/roster', headers, inChunks(raw, 777));
    expect(replayed.status).toBe(202);
    expect(JSON.parse(replayed.body)).toEqual(JSON.parse(first.body));
    const changed = Buffer.from(raw.toString('utf8').replace('"SIG-3"', '"SIG-X"'));
    const reused = await put(
      port,
      '/v1/facilities/STREAM-SIG/roster',
      { ...auth(signing), ...signature(signing.signingSecret, changed.toString('utf8'), webhookId) },
      inChunks(changed),
    );
    expect(reused.status).toBe(401);
    expect(JSON.parse(reused.body)).toMatchObject({ code: 'WEBHOOK_REPLAYED' });
    expect(await snapshots('STREAM-SIG')).toBe(1);
  });

  it('#12 a signed roster whose body was changed in the middle is refused 401 and not recorded', async () => {
    const raw = Buffer.concat([...rosterBody('TAMPER', 2000)]);
    const headers = { ...auth(signing), ...signature(signing.signingSecret, raw.toString('utf8')) };
    const tampered = Buffer.from(raw);
    const middle = tampered.indexOf('"TAMPER-1000"');
    tampered.write('"TAMPER-9999"', middle);
    const res = await put(port, '/v1/facilities/STREAM-TAMPER/roster', headers, inChunks(tampered));
    expect(res.status).toBe(401);
    expect(res.contentType).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(res.body)).toMatchObject({ status: 401, code: 'SIGNATURE_INVALID' });
    expect(await snapshots('STREAM-TAMPER')).toBe(0);
  });

  it('#12 a chunked roster past 50 MB is refused 413 at the limit, not after its end, and not recorded', async () => {
    function* oversized(): Generator<Buffer | typeof HOLD> {
      yield* rosterBody('BIG', 1000, false);
      const spaces = Buffer.alloc(CHUNK, 0x20);
      for (let sent = 0; sent < 51 * MB; sent += CHUNK) yield spaces;
      yield HOLD;
    }
    const res = await put(port, '/v1/facilities/STREAM-BIG/roster', auth(source), oversized());
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ status: 413, code: 'BODY_TOO_LARGE' });
    expect(await snapshots('STREAM-BIG')).toBe(0);
    await baselineStill('STREAM-BIG');
  });

  it('#12 a roster announcing more than 50 MB is refused 413 before its body is read', async () => {
    const res = await put(
      port,
      '/v1/facilities/STREAM-LONG/roster',
      { ...auth(source), 'Content-Length': String(51 * MB) },
      (function* () {
        for (let sent = 0; sent < 51 * MB; sent += CHUNK) yield Buffer.alloc(CHUNK, 0x20);
      })(),
    );
    expect(res.status).toBe(413);
    expect(res.writtenWhenAnswered).toBeLessThan(10 * MB);
    expect(await snapshots('STREAM-LONG')).toBe(0);
  });

  it('#12 JSON that breaks in the middle is answered 400 as it arrives, before the body ends, and nothing is recorded', async () => {
    function* broken(): Generator<Buffer | typeof HOLD> {
      yield* rosterBody('BROKEN', 1000, false);
      yield Buffer.from(',{"identifiers": [}');
      // The body does not end: a parser that waits for all of it would never answer.
      yield HOLD;
    }
    const res = await put(port, '/v1/facilities/STREAM-BROKEN/roster', auth(source), broken());
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ status: 400, code: 'MALFORMED_BODY' });
    expect(await snapshots('STREAM-BROKEN')).toBe(0);
    await baselineStill('STREAM-BROKEN');
  });

  it('#12 a client that disconnects in the middle of the body leaves nothing recorded and the server healthy', async () => {
    const server = t.app.getHttpServer();
    const closed = new Promise<void>((resolve) =>
      server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
        if (req.url === '/v1/facilities/STREAM-GONE/roster') res.on('close', () => resolve());
      }),
    );
    const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: '/v1/facilities/STREAM-GONE/roster', headers: auth(source) });
    req.on('error', () => undefined);
    const parts = [...rosterBody('GONE', 3000, false)];
    for (const part of parts.slice(0, 2)) req.write(part);
    await new Promise((resolve) => req.once('socket', resolve));
    await new Promise<void>((resolve) => req.write(parts[2], () => resolve()));
    req.destroy();
    await closed;

    expect((await t.http().get('/health/ready')).status).toBe(200);
    expect(await snapshots('STREAM-GONE')).toBe(0);
    await baselineStill('STREAM-GONE');
    expect(t.logs.filter((line) => JSON.parse(line).level >= 50)).toEqual([]);
  });
});
