import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/common/rate-limiter.service.js';
import { ManualClock } from '../support/manual-clock.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

// Mid-minute, so no request of a test crosses a window by accident.
const START = new Date('2026-12-07T10:00:05Z');

describe('rate limits shared by every api process', () => {
  const clock = new ManualClock(START);
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await startTestApp({ clock });
    b = await startTestApp({
      clock,
      databaseUrl: a.config.database.url,
      env: { ENCRYPTION_KEY: a.config.security.encryptionKey.toString('base64'), JWT_SECRET: a.config.security.jwtSecret },
    });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('#11.14 two instances on one database share one budget per client across the public routes: the 61st request gets 429 with Retry-After', async () => {
    const search = (t: TestApp) => t.http().get('/v1/people').query({ lastName: 'Nobody', firstName: 'Here' });
    const verify = (t: TestApp) =>
      t.http().post(`/v1/registrations/${randomUUID()}/contacts/${randomUUID()}/verify`).send({ code: '123456' });
    const answers: number[] = [];
    for (let i = 0; i < 20; i++) answers.push((await search(a)).status);
    for (let i = 0; i < 20; i++) answers.push((await verify(b)).status);
    for (let i = 0; i < 20; i++) answers.push((await search(b)).status);
    expect(answers.filter((status) => status === 429)).toEqual([]);

    const limited = await a.http().post('/v1/registrations').send({});
    expect(limited.status).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect((await search(b)).status).toBe(429);

    // The table holds keyed hashes, never the address.
    const { rows } = await a.db.query(`SELECT bucket, encode(key, 'escape') AS key FROM rate_limit`);
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toMatch(/127\.0\.0\.1|::1/);

    clock.advance(60_000);
    expect((await search(b)).status).toBe(200);
  });

  it('#11.14 expired counters are swept by the processes themselves', async () => {
    await a.db.query(`INSERT INTO rate_limit (bucket, key, window_start, hits, expires_at) VALUES ('public', '\\x00', $1, 1, $1)`, [
      new Date(clock.now().getTime() - 120_000),
    ]);
    clock.advance(61_000);
    expect((await a.http().get('/v1/people').query({ lastName: 'Nobody', firstName: 'Here' })).status).toBe(200);
    await a.app.get(RateLimiter).settled();
    const { rows } = await a.db.query(`SELECT count(*)::int AS n FROM rate_limit WHERE expires_at < $1`, [clock.now()]);
    expect(rows[0].n).toBe(0);
  });
});

describe('a route’s own limit', () => {
  it('#11.14 sign-ups from one client stop at SIGNUP_RATE_LIMIT_PER_MINUTE while its other public requests go on', async () => {
    const t = await startTestApp({ clock: new ManualClock(START), env: { SIGNUP_RATE_LIMIT_PER_MINUTE: '2' } });
    try {
      // Invalid bodies: the limit counts before validation, and nothing is sent.
      expect((await t.http().post('/v1/registrations').send({})).status).toBe(422);
      expect((await t.http().post('/v1/registrations').send({})).status).toBe(422);
      const limited = await t.http().post('/v1/registrations').send({});
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect((await t.http().get('/v1/people').query({ lastName: 'Nobody', firstName: 'Here' })).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('one sign-up budget per client, by the minute and by the day', () => {
  it('#11.14 the routes that send messages share one budget per client: a resend after two sign-ups is the third request, not the first of its own', async () => {
    const t = await startTestApp({ clock: new ManualClock(START), env: { SIGNUP_RATE_LIMIT_PER_MINUTE: '2' } });
    try {
      expect((await t.http().post('/v1/registrations').send({})).status).toBe(422);
      expect((await t.http().post('/v1/registrations').send({})).status).toBe(422);
      // Each route counted apart, one client could send codes from every such route at the full rate.
      const resend = await t.http().post(`/v1/registrations/${randomUUID()}/contacts/${randomUUID()}/resend-code`).send({});
      expect(resend.status).toBe(429);
    } finally {
      await t.close();
    }
  });

  it('#11.14 a client’s sign-ups stop for the day at SIGNUP_RATE_LIMIT_PER_DAY, whatever its pace, and start again a day later', async () => {
    const clock = new ManualClock(START);
    const t = await startTestApp({ clock, env: { SIGNUP_RATE_LIMIT_PER_MINUTE: '10', SIGNUP_RATE_LIMIT_PER_DAY: '3' } });
    try {
      for (let i = 0; i < 3; i++) {
        expect((await t.http().post('/v1/registrations').send({})).status).toBe(422);
        clock.advance(5 * 60_000);
      }
      const limited = await t.http().post('/v1/registrations').send({});
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(3_600);
      // Searching and everything else public goes on.
      expect((await t.http().get('/v1/people').query({ lastName: 'Nobody', firstName: 'Here' })).status).toBe(200);
      clock.advance(24 * 3_600_000);
      expect((await t.http().post('/v1/registrations').send({})).status).toBe(422);
    } finally {
      await t.close();
    }
  });
});

describe('staff login lockout', () => {
  const clock = new ManualClock(START);
  let t: TestApp;
  const email = 'locked.specialist@test.vigil';
  const password = 'the-right-password-123';
  beforeAll(async () => {
    t = await startTestApp({ clock, env: { TRUST_PROXY: 'loopback', LOGIN_RATE_LIMIT_PER_MINUTE: '1000' } });
    const created = await t
      .http()
      .post('/v1/admin/staff')
      .set('Authorization', `Bearer ${await t.adminToken()}`)
      .send({ email, password, role: 'specialist' });
    expect(created.status).toBe(201);
  });
  afterAll(() => t.close());

  let client = 0;
  /** Each attempt from another client address. */
  const login = (account: string, secret: string) =>
    t.http().post('/v1/auth/login').set('X-Forwarded-For', `203.0.113.${++client}`).send({ email: account, password: secret });

  it('#11.14 an account locks after repeated failures from any addresses, its backoff grows, and the right password works once it expires', async () => {
    for (let i = 0; i < 5; i++) expect((await login(email, `wrong-${i}`)).status).toBe(401);
    const locked = await login(email, password);
    expect(locked.status).toBe(429);
    expect(locked.headers['content-type']).toMatch(/^application\/problem\+json/);
    const first = Number(locked.headers['retry-after']);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(60);

    clock.advance(first * 1000);
    expect((await login(email, 'wrong-again')).status).toBe(401);
    const relocked = await login(email, password);
    expect(relocked.status).toBe(429);
    const second = Number(relocked.headers['retry-after']);
    expect(second).toBeGreaterThan(first);

    clock.advance(second * 1000);
    const ok = await login(email, password);
    expect(ok.status).toBe(200);
    expect(ok.body.accessToken).toEqual(expect.any(String));
    // A success clears the streak: one more mistake is only a mistake.
    expect((await login(email, 'one-typo')).status).toBe(401);
    expect((await login(email, password)).status).toBe(200);
  });

  it('#11.14 an unknown email locks the same way, so a lockout tells nothing about which accounts exist', async () => {
    const unknown = 'nobody.here@test.vigil';
    for (let i = 0; i < 5; i++) expect((await login(unknown, `wrong-${i}`)).status).toBe(401);
    const lockedUnknown = await login(unknown, 'anything');
    expect(lockedUnknown.status).toBe(429);
    const other = 'other.specialist@test.vigil';
    await t
      .http()
      .post('/v1/admin/staff')
      .set('Authorization', `Bearer ${await t.adminToken()}`)
      .send({ email: other, password, role: 'specialist' });
    for (let i = 0; i < 5; i++) expect((await login(other, `wrong-${i}`)).status).toBe(401);
    const lockedKnown = await login(other, password);
    expect(lockedKnown.status).toBe(429);
    expect(lockedKnown.body).toEqual(lockedUnknown.body);
    const { rows } = await t.db.query(`SELECT encode(key, 'escape') AS key FROM rate_limit`);
    expect(JSON.stringify(rows)).not.toContain('nobody.here');
  });
});
