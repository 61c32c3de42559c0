import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { createSource, event, postEvents } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const PROBLEM_JSON = /^application\/problem\+json/;

describe('every error is RFC 9457 problem+json', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('400 for a malformed JSON body', async () => {
    const res = await t.http().post('/v1/auth/login').set('Content-Type', 'application/json').send('{"email": ');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body).toMatchObject({ type: expect.any(String), title: 'Bad Request', status: 400, detail: expect.any(String) });
  });

  it('422 with a path per invalid field', async () => {
    const res = await t
      .http()
      .post('/v1/admin/staff')
      .set('Authorization', `Bearer ${await t.adminToken()}`)
      .send({
        email: 'not-an-email',
        password: 'short',
        role: 'janitor',
        extra: true,
      });
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    const paths = (res.body.errors as { path: string }[]).map((e) => e.path).sort();
    expect(paths).toEqual(['email', 'extra', 'password', 'role']);
    for (const error of res.body.errors) expect(error.message).toEqual(expect.any(String));
  });

  it('413 for a body over the limit', async () => {
    const res = await t
      .http()
      .post('/v1/auth/login')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(1_100_000) }));
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body.status).toBe(413);
  });

  it('404 for an unknown route', async () => {
    const res = await t.http().get('/v1/no-such-thing');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body).toMatchObject({ status: 404, title: 'Not Found' });
  });

  it('401 without credentials, 403 for the wrong role', async () => {
    const anonymous = await t.http().get('/v1/admin/staff');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['content-type']).toMatch(PROBLEM_JSON);
    const specialist = await t.staffToken('specialist');
    const forbidden = await t.http().get('/v1/admin/staff').set('Authorization', `Bearer ${specialist}`);
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers['content-type']).toMatch(PROBLEM_JSON);
  });

  it('409 for a conflict, and the first record is unchanged', async () => {
    const admin = await t.adminToken();
    const body = { email: 'twice@test.vigil', password: 'first-password-123', role: 'specialist' };
    expect((await t.http().post('/v1/admin/staff').set('Authorization', `Bearer ${admin}`).send(body)).status).toBe(201);
    const again = await t
      .http()
      .post('/v1/admin/staff')
      .set('Authorization', `Bearer ${admin}`)
      .send({ ...body, role: 'admin', password: 'second-password-123' });
    expect(again.status).toBe(409);
    expect(again.headers['content-type']).toMatch(PROBLEM_JSON);
    const { rows } = await t.db.query(`SELECT role FROM staff WHERE email = $1`, [body.email]);
    expect(rows).toEqual([{ role: 'specialist' }]);
    await t.loginAs(body.email, body.password);
  });

  it('a client mistake in a path parameter is a 4xx, not a 5xx', async () => {
    const res = await t
      .http()
      .patch('/v1/admin/staff/not-a-uuid')
      .set('Authorization', `Bearer ${await t.adminToken()}`)
      .send({ disabled: true });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  });

  it('a JSON body that is not an object is refused as a client mistake', async () => {
    const res = await t.http().post('/v1/auth/login').set('Content-Type', 'application/json').send('[1,2,3]');
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it('#12 a JSON route answers 415 problem+json naming application/json for a body of another type or of none', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await t.http().post('/v1/auth/login').set('Content-Type', type).send('email=a%40b.c&password=secret-password');
      expect(res.status, type).toBe(415);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(res.body).toMatchObject({ status: 415, title: 'Unsupported Media Type', detail: expect.stringContaining('application/json') });
    }
    const untyped = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const { port } = t.app.getHttpServer().address() as AddressInfo;
      const body = '{"email":"a@b.c","password":"secret-password"}';
      const req = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/auth/login',
        headers: { 'Content-Length': body.length },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(untyped.status).toBe(415);
    expect(untyped.type).toMatch(PROBLEM_JSON);
    expect(JSON.parse(untyped.body).detail).toContain('application/json');
  });

  it('#12 JSON media types with a +json suffix or a charset are read as JSON; form routes still take forms', async () => {
    for (const type of ['application/json; charset=utf-8', 'application/vnd.vigil+json']) {
      const res = await t
        .http()
        .post('/v1/auth/login')
        .set('Content-Type', type)
        .send(JSON.stringify({ email: 'nobody@test.vigil', password: 'x' }));
      expect(res.status, type).toBe(401);
    }
    const form = await t
      .http()
      .post('/v1/unsubscribe/0b5f6c1e-7d1a-4c8e-9f3a-2d4b6a8c0e12?token=not-a-token')
      .type('form')
      .send('List-Unsubscribe=One-Click');
    expect(form.status).toBe(404);
    expect(form.body).toMatchObject({ code: 'UNSUBSCRIBE_LINK_INVALID' });
  });
  it('#12 a JSON body that begins with a UTF-8 byte-order mark is read as JSON, as it was before Fastify (feeds written on Windows send one)', async () => {
    const source = await createSource(t);
    const res = await postEvents(t, source, `\uFEFF${JSON.stringify({ events: [event()] })}`);
    expect(res.status, res.text).toBe(202);
    const login = await t
      .http()
      .post('/v1/auth/login')
      .set('Content-Type', 'application/json')
      .send(`\uFEFF${JSON.stringify({ email: 'nobody@test.vigil', password: 'x' })}`);
    expect(login.status).toBe(401);
  });

  it('#12 a media type that only begins like JSON (application/json-seq) answers 415, not field errors', async () => {
    const res = await t.http().post('/v1/auth/login').set('Content-Type', 'application/json-seq').send('{"email":"a@b.c","password":"x"}');
    expect(res.status).toBe(415);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  });

  it('#12 compressed bodies: gzip is read, an unknown encoding is 415, a corrupt stream 400, and a bomb is refused by the inflated size', async () => {
    const body = JSON.stringify({ email: 'nobody@test.vigil', password: 'x' });
    // Plain node:http: supertest's client would inflate or re-encode what it is given.
    const post = (encoding: string, bytes: Buffer) =>
      new Promise<{ status: number; type: string; body: { code?: string } }>((resolve, reject) => {
        const { port } = t.app.getHttpServer().address() as AddressInfo;
        const req = http.request({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/v1/auth/login',
          headers: { 'Content-Type': 'application/json', 'Content-Encoding': encoding, 'Content-Length': bytes.length },
        });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              type: String(res.headers['content-type']),
              body: JSON.parse(text) as { code?: string },
            }),
          );
        });
        req.on('error', reject);
        req.end(bytes);
      });
    expect((await post('gzip', gzipSync(body))).status).toBe(401);
    const unknown = await post('zstd', Buffer.from(body));
    expect(unknown.status).toBe(415);
    expect(unknown.body).toMatchObject({ code: 'UNSUPPORTED_ENCODING' });
    const corrupt = await post('gzip', randomBytes(64));
    expect(corrupt.status).toBe(400);
    expect(corrupt.type).toMatch(PROBLEM_JSON);
    // 8 MB of spaces around a JSON object: a few KB on the wire, past the 1 MB limit once inflated.
    const bomb = gzipSync(`{${' '.repeat(8 * 1024 * 1024)}}`);
    expect(bomb.length).toBeLessThan(64 * 1024);
    const refused = await post('gzip', bomb);
    expect(refused.status).toBe(413);
    expect(refused.body).toMatchObject({ code: 'BODY_TOO_LARGE' });
    expect((await t.http().get('/health/live')).status).toBe(200);
  });

  it('#12 a request whose body never finishes is cut off: the server keeps a request timeout (Node’s five minutes), not Fastify’s none', () => {
    // A body dripped a byte a minute would otherwise hold its connection and its buffer for ever.
    const server = t.app.getHttpServer();
    expect(server.requestTimeout).toBe(300_000);
    expect(server.headersTimeout).toBeGreaterThan(0);
    expect(server.headersTimeout).toBeLessThanOrEqual(server.requestTimeout);
  });

  it('#12 a 413 names the limit of the route it was sent to, whatever the letter case of its path', async () => {
    const source = await createSource(t);
    const res = await t
      .http()
      .post('/V1/CUSTODY-EVENTS')
      .set('Authorization', `Bearer ${source.apiKey}`)
      .set('Content-Type', 'application/json')
      .send(`{"events": [], "pad": "${'x'.repeat(6 * 1024 * 1024)}"}`);
    expect(res.status).toBe(413);
    expect(res.body.detail).toContain(String(5 * 1024 * 1024));
  });
});
