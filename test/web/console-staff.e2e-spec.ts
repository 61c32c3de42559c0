import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleBrowser, consoleSignIn, csrfOn, newStaff } from '../support/console.js';
import { ADMIN, startTestApp, type TestApp } from '../support/test-app.js';

const PASSWORD_ON_PAGE = /data-secret="password">([^<]+)</;

describe('#14.1 console: staff management', () => {
  let t: TestApp;
  let admin: ConsoleBrowser;
  let adminId: string;

  beforeAll(async () => {
    // Many sign-ins from one address: the login limits have their own tests.
    t = await startTestApp({ env: { LOGIN_RATE_LIMIT_PER_MINUTE: '1000' } });
    admin = await consoleSignIn(t, ADMIN.email, ADMIN.password);
    adminId = (await t.db.query(`SELECT id FROM staff WHERE email = $1`, [ADMIN.email])).rows[0].id as string;
  });
  afterAll(() => t.close());

  async function post(browser: ConsoleBrowser, path: string, fields: Record<string, unknown> = {}) {
    const page = await browser.get('/console/staff');
    return browser
      .post(path)
      .type('form')
      .send({ _csrf: csrfOn(page), ...fields });
  }

  async function staffRow(email: string) {
    return (await t.db.query(`SELECT id, role, disabled FROM staff WHERE email = $1`, [email])).rows[0] as
      { id: string; role: string; disabled: boolean } | undefined;
  }

  async function apiLogin(email: string, password: string) {
    return t.http().post('/v1/auth/login').send({ email, password });
  }

  /** No password the test saw appears in the audit log or in any log line. */
  async function expectNowhere(secret: string) {
    const audit = await t.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE details::text LIKE '%' || $1 || '%'`, [secret]);
    expect(audit.rows[0].n).toBe(0);
    expect(t.logs.filter((line) => line.includes(secret))).toEqual([]);
  }

  it('#14.1 the staff page lists every account with its email, role, state and when it was added', async () => {
    const specialist = await newStaff(t, 'specialist');
    const page = await admin.get('/console/staff');
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    const row = (await staffRow(specialist.email))!;
    const html = new RegExp(`<tr data-staff-id="${row.id}">[\\s\\S]*?</tr>`).exec(page.text)![0];
    expect(html).toContain(specialist.email);
    expect(html).toContain('victim assistance specialist');
    expect(html).toContain('active');
    expect(html).toMatch(/<time datetime="\d{4}-\d{2}-\d{2}T/);
    // Your own row has no disable button: the refusal below is for a crafted request.
    const own = new RegExp(`<tr data-staff-id="${adminId}">[\\s\\S]*?</tr>`).exec(page.text)![0];
    expect(own).toContain('(you)');
    expect(own).not.toContain('/disable"');
  });

  it('#14.1 creating a staff member shows a Vigil-made password once; they sign in with it; the audit entry holds no email or password', async () => {
    const email = 'new.specialist@test.vigil';
    const created = await post(admin, '/console/staff', { email: '  New.Specialist@test.vigil ', role: 'specialist' });
    expect(created.status).toBe(200);
    expect(created.headers['cache-control']).toBe('no-store');
    const password = PASSWORD_ON_PAGE.exec(created.text)![1];
    expect(password).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){4}$/);
    expect(created.text).toContain('shown only once');
    const row = (await staffRow(email))!;
    expect(row).toMatchObject({ role: 'specialist', disabled: false });

    const list = await admin.get('/console/staff');
    expect(list.text).toContain(email);
    expect(list.text).not.toContain(password);
    const browser = await consoleSignIn(t, email, password);
    expect((await browser.get('/console/')).status).toBe(200);
    expect((await apiLogin(email, password)).status).toBe(200);

    const audit = await t.db.query(`SELECT actor_staff_id, details FROM audit_log WHERE action = 'staff.create' AND target_id = $1`, [
      row.id,
    ]);
    expect(audit.rows).toEqual([{ actor_staff_id: adminId, details: { role: 'specialist' } }]);
    await expectNowhere(password);
    await expectNowhere(email);
  });

  it('#14.1 an email already in use answers 409 with the form and the mistake at the email field', async () => {
    const res = await post(admin, '/console/staff', { email: ADMIN.email, role: 'admin' });
    expect(res.status).toBe(409);
    expect(res.text).toMatch(/id="field-email"[^>]*aria-invalid="true"/);
    expect(res.text).toContain('A staff member already has that email.');
    expect(res.text).not.toMatch(PASSWORD_ON_PAGE);
  });

  it('#14.1 wrong types, arrays, NUL, huge strings and unknown roles answer 422 pages with the field errors, and create nobody', async () => {
    const before = (await t.db.query(`SELECT count(*)::int AS n FROM staff`)).rows[0].n as number;
    const cases: [string, string, string[]][] = [
      ['no fields', '', ['email', 'role']],
      ['blank email', 'email=&role=specialist', ['email']],
      ['not an email', 'email=not-an-email&role=specialist', ['email']],
      ['email twice', 'email=a%40test.vigil&email=b%40test.vigil&role=specialist', ['email']],
      ['email as an object', 'email%5Bx%5D=a%40test.vigil&role=specialist', ['email']],
      ['NUL in the email', 'email=nul%00x%40test.vigil&role=specialist', ['email']],
      ['a huge email', `email=${'a'.repeat(300)}%40test.vigil&role=specialist`, ['email']],
      ['a huge body', `email=x%40test.vigil&role=specialist&junk=${'z'.repeat(200_000)}`, []],
      ['unknown role', 'email=c%40test.vigil&role=superuser', ['role']],
      ['role twice', 'email=c%40test.vigil&role=admin&role=specialist', ['role']],
      ['role with NUL', 'email=c%40test.vigil&role=admin%00', ['role']],
    ];
    for (const [what, body, fields] of cases) {
      const page = await admin.get('/console/staff');
      const res = await admin
        .post('/console/staff')
        .type('form')
        .send(`_csrf=${encodeURIComponent(csrfOn(page))}${body ? `&${body}` : ''}`);
      if (!fields.length) {
        // Past the body limit: refused before any handler, as a page.
        expect(res.status, what).toBeGreaterThanOrEqual(400);
        expect(res.status, what).toBeLessThan(500);
        expect(res.headers['content-type'], what).toMatch(/^text\/html/);
        continue;
      }
      expect(res.status, what).toBe(422);
      expect(res.headers['content-type'], what).toMatch(/^text\/html/);
      for (const field of fields) expect(res.text, `${what}: ${field}`).toMatch(new RegExp(`id="field-${field}"[^>]*aria-invalid="true"`));
      expect(res.text, what).not.toMatch(PASSWORD_ON_PAGE);
      // Shown again, the form never preselects admin for a role that was not one.
      if (fields.includes('role')) expect(res.text, what).toMatch(/<option value="specialist" selected>/);
    }
    expect((await t.db.query(`SELECT count(*)::int AS n FROM staff`)).rows[0].n).toBe(before);
  });

  it('#14.1 disabling someone sends their open console session to the login and their API token gets 401 at once; re-enabling lets them back', async () => {
    const staff = await newStaff(t, 'specialist');
    const session = await consoleSignIn(t, staff.email, staff.password);
    const token = await t.loginAs(staff.email, staff.password);
    expect((await session.get('/console/victims')).status).toBe(200);
    expect((await t.http().get('/v1/enrollments').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    const { id } = (await staffRow(staff.email))!;

    const disabled = await post(admin, `/console/staff/${id}/disable`);
    expect(disabled.status).toBe(303);
    expect(disabled.headers.location).toBe('/console/staff?done=disabled');
    expect((await staffRow(staff.email))!.disabled).toBe(true);
    const sent = await session.get('/console/victims');
    expect(sent.status).toBe(303);
    expect(sent.headers.location).toBe('/console/login');
    expect((await t.http().get('/v1/enrollments').set('Authorization', `Bearer ${token}`)).status).toBe(401);
    expect((await apiLogin(staff.email, staff.password)).status).toBe(401);
    const listed = await admin.get('/console/staff?done=disabled');
    expect(listed.text).toContain('The account was disabled');
    expect(new RegExp(`<tr data-staff-id="${id}">[\\s\\S]*?DISABLED[\\s\\S]*?/enable"`).test(listed.text)).toBe(true);

    const enabled = await post(admin, `/console/staff/${id}/enable`);
    expect(enabled.status).toBe(303);
    // Re-enabling lets them sign in again, not the sessions and tokens they held before (a stolen one stays dead).
    expect((await t.http().get('/v1/enrollments').set('Authorization', `Bearer ${token}`)).status).toBe(401);
    expect((await session.get('/console/victims')).status).toBe(303);
    expect((await apiLogin(staff.email, staff.password)).status).toBe(200);
    const actions = await t.db.query(
      `SELECT action, details FROM audit_log WHERE target_id = $1 AND action <> 'staff.create' AND action NOT LIKE 'staff.login%' ORDER BY at`,
      [id],
    );
    expect(actions.rows).toEqual([
      { action: 'staff.disable', details: null },
      { action: 'staff.enable', details: null },
    ]);
  });

  it('#14.1 a password reset shows a new password once: the old one fails, the new one works, and their open session and tokens end', async () => {
    const staff = await newStaff(t, 'specialist');
    const session = await consoleSignIn(t, staff.email, staff.password);
    const token = await t.loginAs(staff.email, staff.password);
    const { id } = (await staffRow(staff.email))!;

    const reset = await post(admin, `/console/staff/${id}/password`);
    expect(reset.status).toBe(200);
    const password = PASSWORD_ON_PAGE.exec(reset.text)![1];
    expect(reset.text).toContain(staff.email);
    expect(reset.text).toContain('earlier sessions and tokens have ended');
    // The language switch goes back to the staff page, never to the POST's address.
    expect(reset.text).toContain('href="/console/staff?lang=es"');
    expect(password).not.toBe(staff.password);

    expect((await apiLogin(staff.email, staff.password)).status).toBe(401);
    expect((await apiLogin(staff.email, password)).status).toBe(200);
    expect((await session.get('/console/')).headers.location).toBe('/console/login');
    expect((await t.http().get('/v1/enrollments').set('Authorization', `Bearer ${token}`)).status).toBe(401);
    const fresh = await consoleSignIn(t, staff.email, password);
    expect((await fresh.get('/console/')).status).toBe(200);

    const audit = await t.db.query(
      `SELECT actor_staff_id, details FROM audit_log WHERE action = 'staff.password_reset' AND target_id = $1`,
      [id],
    );
    expect(audit.rows).toEqual([{ actor_staff_id: adminId, details: null }]);
    await expectNowhere(password);
  });

  it('#14.1 an admin cannot disable themselves: a 409 page, nothing changed', async () => {
    const res = await post(admin, `/console/staff/${adminId}/disable`);
    expect(res.status).toBe(409);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('You cannot disable your own account.');
    expect((await staffRow(ADMIN.email))!.disabled).toBe(false);
    expect((await admin.get('/console/')).status).toBe(200);
    const api = await t
      .http()
      .patch(`/v1/admin/staff/${adminId}`)
      .set('Authorization', `Bearer ${await t.adminToken()}`)
      .send({ disabled: true });
    expect(api.status).toBe(409);
    expect(api.body.code).toBe('STAFF_SELF_DISABLE');
    expect((await staffRow(ADMIN.email))!.disabled).toBe(false);
  });

  it('#14.1 an unknown or malformed staff id is a 404 page and changes nothing', async () => {
    for (const path of ['/console/staff/3f1c7d2e-0000-4000-8000-000000000000/disable', '/console/staff/not-an-id/password']) {
      const res = await post(admin, path);
      expect(res.status, path).toBe(404);
      expect(res.headers['content-type'], path).toMatch(/^text\/html/);
    }
  });

  it('#14.1 a specialist gets 403 pages on the staff page and every staff form, and nothing changes', async () => {
    const staff = await newStaff(t, 'specialist');
    const specialist = await consoleSignIn(t, staff.email, staff.password);
    expect((await specialist.get('/console/staff')).status).toBe(403);
    const dashboard = await specialist.get('/console/');
    const _csrf = csrfOn(dashboard);
    const before = await t.db.query(`SELECT id, disabled, password_hash FROM staff ORDER BY id`);
    for (const path of ['/console/staff', `/console/staff/${adminId}/disable`, `/console/staff/${adminId}/password`]) {
      const res = await specialist.post(path).type('form').send({ _csrf, email: 'sneaky@test.vigil', role: 'admin' });
      expect(res.status, path).toBe(403);
      expect(res.text, path).toContain('This page is for administrators.');
    }
    expect((await t.db.query(`SELECT id, disabled, password_hash FROM staff ORDER BY id`)).rows).toEqual(before.rows);
  });

  it('#14.1 two admins disabling each other at the same moment leave one of them active (the last active admin is refused)', async () => {
    const a = await newStaff(t, 'admin');
    const b = await newStaff(t, 'admin');
    const browserA = await consoleSignIn(t, a.email, a.password);
    const browserB = await consoleSignIn(t, b.email, b.password);
    const idA = (await staffRow(a.email))!.id;
    const idB = (await staffRow(b.email))!.id;
    // Everyone else steps aside, so A and B are the last two active admins.
    const others = await t.db.query(`SELECT id FROM staff WHERE role = 'admin' AND NOT disabled AND id <> ALL($1::uuid[])`, [[idA, idB]]);
    for (const { id } of others.rows) expect((await post(browserA, `/console/staff/${id}/disable`)).status).toBe(303);
    const [pageA, pageB] = await Promise.all([browserA.get('/console/staff'), browserB.get('/console/staff')]);
    const [byA, byB] = await Promise.all([
      browserA
        .post(`/console/staff/${idB}/disable`)
        .type('form')
        .send({ _csrf: csrfOn(pageA) }),
      browserB
        .post(`/console/staff/${idA}/disable`)
        .type('form')
        .send({ _csrf: csrfOn(pageB) }),
    ]);
    const active = await t.db.query(`SELECT id FROM staff WHERE role = 'admin' AND NOT disabled`);
    expect(active.rows).toHaveLength(1);
    const loser = [byA, byB].find((res) => res.status !== 303 || res.headers.location !== '/console/staff?done=disabled')!;
    expect(loser, 'one of the two was refused').toBeDefined();
    // Refused in the transaction (409 page) or, if the other committed first, already signed out.
    if (loser.status === 409) expect(loser.text).toContain('last active admin');
    else expect(loser.headers.location).toBe('/console/login');
    // Put the others back for the tests after this one.
    const survivor = active.rows[0].id === idA ? browserA : browserB;
    for (const { id } of others.rows) expect((await post(survivor, `/console/staff/${id}/enable`)).status).toBe(303);
    // Disabling ended the bootstrap admin's sessions and tokens for good: sign in again for the tests after this one.
    await t.adminToken(true);
    admin = await consoleSignIn(t, ADMIN.email, ADMIN.password);
  });

  it('#14.1 the API resets a password: the new one is returned once, documented, audited; the old token ends; a specialist is refused', async () => {
    const staff = await newStaff(t, 'specialist');
    const token = await t.loginAs(staff.email, staff.password);
    const { id } = (await staffRow(staff.email))!;
    const res = await t
      .http()
      .post(`/v1/admin/staff/${id}/password-reset`)
      .set('Authorization', `Bearer ${await t.adminToken()}`);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['staffId', 'temporaryPassword']);
    expect(res.body.staffId).toBe(id);
    expect((await apiLogin(staff.email, res.body.temporaryPassword as string)).status).toBe(200);
    expect((await apiLogin(staff.email, staff.password)).status).toBe(401);
    expect((await t.http().get('/v1/enrollments').set('Authorization', `Bearer ${token}`)).status).toBe(401);
    await expectNowhere(res.body.temporaryPassword as string);

    const unknown = await t
      .http()
      .post('/v1/admin/staff/3f1c7d2e-0000-4000-8000-000000000000/password-reset')
      .set('Authorization', `Bearer ${await t.adminToken()}`);
    expect(unknown.status).toBe(404);
    const specialist = await t.staffToken('specialist');
    const refused = await t.http().post(`/v1/admin/staff/${id}/password-reset`).set('Authorization', `Bearer ${specialist}`);
    expect(refused.status).toBe(403);
    const docs = await t.http().get('/docs-json');
    const operation = docs.body.paths['/v1/admin/staff/{id}/password-reset'].post;
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '401', '403', '404']));
  });
});
