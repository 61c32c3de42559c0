import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '../support/tcp-proxy.js';
import { createTestDatabase } from '../support/test-database.js';
import { ADMIN, startTestApp, type TestApp } from '../support/test-app.js';

describe('database outage', () => {
  let t: TestApp;
  let proxy: TcpProxy;
  beforeAll(async () => {
    const hop = await TcpProxy.before(await createTestDatabase());
    proxy = hop.proxy;
    t = await startTestApp({ databaseUrl: hop.url });
  });
  afterAll(async () => {
    await t.close();
    await proxy.stop();
  });

  it('answers 503 with Retry-After while PostgreSQL is unreachable, and recovers after', async () => {
    const token = await t.adminToken();
    expect((await t.http().get('/health/ready')).status).toBe(200);

    proxy.cut();
    const ready = await t.http().get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(ready.headers['retry-after'])).toBeGreaterThan(0);

    const login = await t.http().post('/v1/auth/login').send(ADMIN);
    expect(login.status).toBe(503);
    expect(Number(login.headers['retry-after'])).toBeGreaterThan(0);
    expect(login.body).toMatchObject({ status: 503, code: 'DATABASE_UNAVAILABLE' });

    const staff = await t.http().get('/v1/admin/staff').set('Authorization', `Bearer ${token}`);
    expect(staff.status).toBe(503);

    expect((await t.http().get('/health/live')).status).toBe(200);

    proxy.restore();
    expect((await t.http().get('/health/ready')).status).toBe(200);
    expect((await t.http().post('/v1/auth/login').send(ADMIN)).status).toBe(200);
  });
});
