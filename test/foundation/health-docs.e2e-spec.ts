import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('health and API docs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('liveness and readiness answer 200 with the database up', async () => {
    const live = await t.http().get('/health/live');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok' });
    const ready = await t.http().get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.info.database.status).toBe('up');
  });

  it('serves the OpenAPI document and the docs page', async () => {
    const json = await t.http().get('/docs-json');
    expect(json.status).toBe(200);
    expect(json.body.openapi).toMatch(/^3\./);
    expect(Object.keys(json.body.paths)).toEqual(expect.arrayContaining(['/v1/auth/login', '/v1/admin/staff', '/health/ready']));
    const login = json.body.components.schemas.LoginDto;
    expect(Object.keys(login.properties)).toEqual(['email', 'password']);
    const page = await t.http().get('/docs/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger');
  });
});

describe('ROLE', () => {
  it('a worker process serves health but no API routes', async () => {
    const t = await startTestApp({ env: { ROLE: 'worker' } });
    try {
      expect((await t.http().get('/health/ready')).status).toBe(200);
      expect((await t.http().post('/v1/auth/login').send({ email: 'a@b.c', password: 'x' })).status).toBe(404);
    } finally {
      await t.close();
    }
  });
});
