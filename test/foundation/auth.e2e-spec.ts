import { JwtService } from '@nestjs/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startTestApp, type TestApp } from '../support/test-app.js';

describe('staff login and role guards', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { LOGIN_RATE_LIMIT_PER_MINUTE: '1000' } });
  });
  afterAll(() => t.close());

  it('the bootstrap admin exists once, with an argon2 hash and no clear password', async () => {
    const { rows } = await t.db.query(`SELECT email, role, password_hash FROM staff WHERE role = 'admin'`);
    expect(rows).toHaveLength(1);
    expect(rows[0].email).toBe(ADMIN.email);
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$/);
    expect(rows[0].password_hash).not.toContain(ADMIN.password);
  });

  it('logs in with the right password and returns a short-lived JWT carrying the role', async () => {
    const res = await t.http().post('/v1/auth/login').send({ email: ADMIN.email.toUpperCase(), password: ADMIN.password });
    expect(res.status).toBe(200);
    expect(res.body.expiresIn).toBe(900);
    const claims = new JwtService().decode<{ role: string; exp: number; iat: number }>(res.body.accessToken);
    expect(claims.role).toBe('admin');
    expect(claims.exp - claims.iat).toBe(900);
  });

  it('answers wrong password and unknown email identically', async () => {
    const wrong = await t.http().post('/v1/auth/login').send({ email: ADMIN.email, password: 'not the password' });
    const unknown = await t.http().post('/v1/auth/login').send({ email: 'nobody@test.vigil', password: 'not the password' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
  });

  it('refuses a disabled account, and its live token stops working at once', async () => {
    const admin = await t.adminToken();
    const email = 'leaver@test.vigil';
    const password = 'leaver-password-123';
    const created = await t
      .http()
      .post('/v1/admin/staff')
      .set('Authorization', `Bearer ${admin}`)
      .send({ email, password, role: 'specialist' });
    const token = await t.loginAs(email, password);
    expect((await t.http().get('/v1/admin/staff').set('Authorization', `Bearer ${token}`)).status).toBe(403);

    const disabled = await t
      .http()
      .patch(`/v1/admin/staff/${created.body.staffId}`)
      .set('Authorization', `Bearer ${admin}`)
      .send({ disabled: true });
    expect(disabled.status).toBe(200);
    expect(disabled.body.disabled).toBe(true);

    const login = await t.http().post('/v1/auth/login').send({ email, password });
    expect(login.status).toBe(401);
    const wrong = await t.http().post('/v1/auth/login').send({ email, password: 'bad-password' });
    expect(login.body).toEqual(wrong.body);
    expect((await t.http().get('/v1/admin/staff').set('Authorization', `Bearer ${token}`)).status).toBe(401);
  });

  it('admin routes: admin yes, specialist 403, no token / forged / expired / malformed 401', async () => {
    const admin = await t.adminToken();
    const specialist = await t.staffToken('specialist');
    const claims = new JwtService().decode<{ sub: string }>(admin);
    const forged = await new JwtService({ secret: 'another-secret-of-enough-length-000000' }).signAsync(
      { sub: claims.sub, role: 'admin', typ: 'staff' },
      { issuer: 'vigil' },
    );
    const expired = await new JwtService({ secret: t.config.security.jwtSecret }).signAsync(
      { sub: claims.sub, role: 'admin', typ: 'staff', exp: Math.floor(Date.now() / 1000) - 10 },
      { issuer: 'vigil' },
    );
    const get = (auth?: string) => {
      const req = t.http().get('/v1/admin/staff');
      return auth ? req.set('Authorization', auth) : req;
    };
    expect((await get(`Bearer ${admin}`)).status).toBe(200);
    expect((await get(`Bearer ${specialist}`)).status).toBe(403);
    expect((await get()).status).toBe(401);
    expect((await get(`Bearer ${forged}`)).status).toBe(401);
    expect((await get(`Bearer ${expired}`)).status).toBe(401);
    expect((await get('Basic abc')).status).toBe(401);
    expect((await get('Bearer not.a.jwt')).status).toBe(401);
  });

  it('a specialist token cannot create staff; an admin can create another admin', async () => {
    const specialist = await t.staffToken('specialist');
    const refused = await t
      .http()
      .post('/v1/admin/staff')
      .set('Authorization', `Bearer ${specialist}`)
      .send({ email: 'sneaky@test.vigil', password: 'sneaky-password-123', role: 'admin' });
    expect(refused.status).toBe(403);
    const { rowCount } = await t.db.query(`SELECT 1 FROM staff WHERE email = 'sneaky@test.vigil'`);
    expect(rowCount).toBe(0);
    const secondAdmin = await t.staffToken('admin');
    expect((await t.http().get('/v1/admin/staff').set('Authorization', `Bearer ${secondAdmin}`)).status).toBe(200);
  });

  it('#14 every sign-in is audited: who and from where on success, the account tried on a wrong password, nothing typed for an unknown email', async () => {
    const before = await t.db.query(`SELECT coalesce(max(at), 'epoch') AS at FROM audit_log`);
    const since = before.rows[0].at;
    expect((await t.http().post('/v1/auth/login').send({ email: ADMIN.email, password: ADMIN.password })).status).toBe(200);
    expect((await t.http().post('/v1/auth/login').send({ email: ADMIN.email, password: 'a wrong guess' })).status).toBe(401);
    const unknown = `nobody-${Date.now()}@nowhere.test`;
    expect((await t.http().post('/v1/auth/login').send({ email: unknown, password: 'a wrong guess' })).status).toBe(401);
    const { rows } = await t.db.query(
      `SELECT a.action, s.email, a.client_address, a.details FROM audit_log a LEFT JOIN staff s ON s.id = a.actor_staff_id
       WHERE a.at > $1 AND a.action LIKE 'staff.login%' ORDER BY a.at, a.action`,
      [since],
    );
    expect(rows.map((r) => [r.action, r.email])).toEqual([
      ['staff.login', ADMIN.email],
      ['staff.login_failed', ADMIN.email],
    ]);
    expect(rows.every((r) => typeof r.client_address === 'string' && r.client_address.length > 0)).toBe(true);
    const all = JSON.stringify((await t.db.query(`SELECT * FROM audit_log WHERE at > $1`, [since])).rows);
    expect(all).not.toContain(unknown);
    expect(all).not.toContain('a wrong guess');
  });

  it('never writes passwords or tokens to the log', async () => {
    const token = await t.adminToken();
    await t.http().get('/v1/admin/staff').set('Authorization', `Bearer ${token}`);
    const all = t.logs.join('\n');
    expect(t.logs.length).toBeGreaterThan(0);
    expect(all).not.toContain(ADMIN.password);
    expect(all).not.toContain(token);
  });
});

describe('login rate limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { LOGIN_RATE_LIMIT_PER_MINUTE: '3' } });
  });
  afterAll(() => t.close());

  it('answers 429 with Retry-After once a client exceeds the limit, even with the right password', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await t.http().post('/v1/auth/login').send({ email: ADMIN.email, password: 'guess' })).status).toBe(401);
    }
    const limited = await t.http().post('/v1/auth/login').send({ email: ADMIN.email, password: ADMIN.password });
    expect(limited.status).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});
