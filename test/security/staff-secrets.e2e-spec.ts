import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSource } from '../support/sources.js';
import { ADMIN, startTestApp, type TestApp } from '../support/test-app.js';

describe('#11 API answers that carry a staff secret are never cached', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('#11 the access token, a new password, a source key and signing secret, and the dev outbox are all no-store', async () => {
    const login = await t.http().post('/v1/auth/login').send(ADMIN);
    expect(login.status).toBe(200);
    expect(login.headers['cache-control']).toBe('no-store');
    const admin = `Bearer ${login.body.accessToken as string}`;

    const specialist = await t.http().post('/v1/admin/staff').set('Authorization', admin).send({
      email: 'cache.specialist@test.vigil',
      password: 'a long enough password',
      role: 'specialist',
    });
    expect(specialist.status).toBe(201);
    const reset = await t
      .http()
      .post(`/v1/admin/staff/${specialist.body.staffId as string}/password-reset`)
      .set('Authorization', admin);
    expect(reset.status).toBe(200);
    expect(reset.headers['cache-control']).toBe('no-store');

    const source = await t.http().post('/v1/admin/sources').set('Authorization', admin).send({ name: 'Cache County JMS' });
    expect(source.status).toBe(201);
    expect(source.headers['cache-control']).toBe('no-store');
    const key = await t
      .http()
      .post(`/v1/admin/sources/${(await createSource(t)).sourceId}/keys`)
      .set('Authorization', admin);
    expect(key.status).toBe(201);
    expect(key.headers['cache-control']).toBe('no-store');

    const outbox = await t.http().get('/dev/outbox').set('Authorization', admin);
    expect(outbox.status).toBe(200);
    expect(outbox.headers['cache-control']).toBe('no-store');
  });
});
