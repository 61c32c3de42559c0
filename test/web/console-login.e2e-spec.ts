import { JwtService } from '@nestjs/jwt';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookPerson } from '../support/registrations.js';
import { enrol } from '../support/roster-people.js';
import { createSource, event, personWith, postEvents } from '../support/sources.js';
import { ADMIN, startTestApp, type TestApp } from '../support/test-app.js';

/** A browser of its own: cookies kept between requests, as a staff member's browser would. */
function browser(t: TestApp) {
  return supertest.agent(t.app.getHttpServer());
}

async function csrfFrom(agent: ReturnType<typeof browser>, path: string): Promise<string> {
  const page = await agent.get(path);
  const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
  if (!token) throw new Error(`no CSRF token on ${path}`);
  return token;
}

async function signIn(t: TestApp, email: string, password: string) {
  const agent = browser(t);
  const _csrf = await csrfFrom(agent, '/console/login');
  const res = await agent.post('/console/login').type('form').send({ email, password, _csrf });
  return { agent, res };
}

describe('#14 console: sign in, the session cookie, roles', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('#14 a console page without a session sends to the login form, which is no-store, CSP-bound and has no quick exit', async () => {
    const dashboard = await t.http().get('/console/');
    expect(dashboard.status).toBe(303);
    expect(dashboard.headers.location).toBe('/console/login');
    const login = await t.http().get('/console/login');
    expect(login.status).toBe(200);
    expect(login.headers['cache-control']).toBe('no-store');
    expect(login.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(login.text).toMatch(/<input id="field-email" name="email" type="email"/);
    expect(login.text).toMatch(/<input id="field-password" name="password" type="password" value=""/);
    expect(login.text).not.toContain('quick-exit');
    expect(login.text).not.toContain('hreflang');
  });

  it('#14 a wrong password answers 401 with the form again, the email kept and the password never echoed', async () => {
    const { res } = await signIn(t, ADMIN.email, 'not the password at all');
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain(`value="${ADMIN.email}"`);
    expect(res.text).not.toContain('not the password at all');
    expect(res.text).toContain('The email or password is not correct.');
    expect(res.headers['set-cookie']?.toString() ?? '').not.toContain('vigil_console=');
  });

  it('#14 the login form is refused without its CSRF token (403 page)', async () => {
    const agent = browser(t);
    await agent.get('/console/login');
    const res = await agent.post('/console/login').type('form').send({ email: ADMIN.email, password: ADMIN.password });
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['set-cookie']?.toString() ?? '').not.toContain('vigil_console=');
  });

  it('#14 signing in sets an HttpOnly, SameSite=Strict session cookie scoped to /console and opens the dashboard; signing out ends it', async () => {
    const { agent, res } = await signIn(t, ADMIN.email, ADMIN.password);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/console/');
    const cookie = (res.headers['set-cookie'] as unknown as string[]).find((line) => line.startsWith('vigil_console='))!;
    expect(cookie).toMatch(/;\s*HttpOnly/i);
    expect(cookie).toMatch(/;\s*SameSite=Strict/i);
    expect(cookie).toMatch(/;\s*Path=\/console/i);
    const dashboard = await agent.get('/console/');
    expect(dashboard.status).toBe(200);
    expect(dashboard.headers['cache-control']).toBe('no-store');
    expect(dashboard.text).toContain('data-count="deadDeliveries"');
    const _csrf = /name="_csrf" value="([^"]+)"/.exec(dashboard.text)![1];
    const out = await agent.post('/console/logout').type('form').send({ _csrf });
    expect(out.status).toBe(303);
    expect((await agent.get('/console/')).status).toBe(303);
  });

  it('#14 an active console session is renewed: a page opened in the second half of the session’s life sets a fresh cookie, one early in it sets none', async () => {
    // The console's cookie holds the token the API issues; a fresh one is taken from the API, as signing in
    // to the console again would count against this file's sign-ins from one address.
    const cookieOf = (headers: Record<string, unknown>) =>
      ((headers['set-cookie'] as string[] | undefined) ?? []).find((line) => line.startsWith('vigil_console='));
    const tokenOf = (line: string) => /^vigil_console=([^;]+)/.exec(line)![1];
    const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, number>;
    const issued = await t.adminToken(true);
    const first = claimsOf(issued);

    const early = await supertest(t.app.getHttpServer()).get('/console/').set('Cookie', `vigil_console=${issued}`);
    expect(early.status).toBe(200);
    expect(cookieOf(early.headers)).toBeUndefined();

    // The same session with 20 s left, as after a specialist's quarter of an hour on the phone.
    const { sub, role, typ, gen } = first;
    const ending = await t.app.get(JwtService).signAsync({ sub, role, typ, gen }, { expiresIn: 20 });
    const late = await supertest(t.app.getHttpServer()).get('/console/').set('Cookie', `vigil_console=${ending}`);
    expect(late.status).toBe(200);
    const renewed = cookieOf(late.headers);
    expect(renewed, 'a fresh session cookie').toBeDefined();
    expect(renewed).toMatch(/;\s*HttpOnly/i);
    expect(renewed).toMatch(/;\s*Path=\/console/i);
    const fresh = claimsOf(tokenOf(renewed!));
    expect(fresh.exp - Math.floor(Date.now() / 1000)).toBeGreaterThan(t.config.security.jwtTtlSeconds - 30);
    expect({ sub: fresh.sub, gen: fresh.gen }).toEqual({ sub: first.sub, gen: first.gen });
    expect(
      (
        await supertest(t.app.getHttpServer())
          .get('/console/')
          .set('Cookie', `vigil_console=${tokenOf(renewed!)}`)
      ).status,
    ).toBe(200);
  });

  it('#14 a specialist sees only their own counts and gets a 403 page on an admin page; an admin sees the feeds, silent first', async () => {
    const email = `spec-${Date.now()}@test.vigil`;
    const password = 'specialist password 123';
    const created = await t
      .http()
      .post('/v1/admin/staff')
      .set('Authorization', `Bearer ${await t.adminToken()}`)
      .send({ email, password, role: 'specialist' });
    expect(created.status).toBe(201);
    const { agent } = await signIn(t, email, password);
    const dashboard = await agent.get('/console/');
    expect(dashboard.text).toContain('data-count="myRegistrations"');
    expect(dashboard.text).not.toContain('data-count="deadDeliveries"');
    const feeds = await agent.get('/console/feeds');
    expect(feeds.status).toBe(403);
    expect(feeds.headers['content-type']).toMatch(/^text\/html/);
    expect(feeds.text).toContain('This page is for administrators.');

    const quiet = await createSource(t, { name: 'Quiet County Jail', expectedIntervalSeconds: 60 });
    await t.db.query(`UPDATE source SET last_contact_at = now() - interval '3 hours' WHERE id = $1`, [quiet.sourceId]);
    await createSource(t, { name: 'Aardvark Detention', expectedIntervalSeconds: 3600 });
    const admin = (await signIn(t, ADMIN.email, ADMIN.password)).agent;
    const page = await admin.get('/console/feeds');
    expect(page.status).toBe(200);
    const order = [...page.text.matchAll(/<th scope="row">([^<]+)<\/th>/g)].map((m) => m[1]);
    expect(order[0]).toBe('Quiet County Jail');
    expect(page.text).toMatch(/SILENT[\s\S]*3 h 0 min/);
  });

  it('#14 the console speaks Spanish when asked and remembers it', async () => {
    const agent = browser(t);
    const es = await agent.get('/console/login?lang=es');
    expect(es.text).toContain('<html lang="es">');
    expect(es.text).toContain('Acceso del personal');
    expect((await agent.get('/console/login')).text).toContain('<html lang="es">');
  });

  it('#14 my victims: a specialist sees only their own enrollees, escalated first, and each one’s timeline newest first; another’s is 404', async () => {
    const source = await createSource(t);
    const make = async (tag: string) => {
      const email = `${tag}-${Date.now()}@test.vigil`;
      const password = `${tag} password 12345`;
      await t
        .http()
        .post('/v1/admin/staff')
        .set('Authorization', `Bearer ${await t.adminToken()}`)
        .send({ email, password, role: 'specialist' });
      return { email, password, token: await t.loginAs(email, password) };
    };
    const mine = await make('mine');
    const theirs = await make('theirs');
    const calm = await bookPerson(t, source, 'A-700-000-001', { firstName: 'Calm', lastName: 'Person' });
    const urgent = await bookPerson(t, source, 'A-700-000-002', { firstName: 'Urgent', lastName: 'Person' });
    const other = await bookPerson(t, source, 'A-700-000-003', { firstName: 'Other', lastName: 'Person' });
    // The escalated one is the older registration with the older alert: only escalation puts it first.
    const urgentReg = await enrol(t, mine.token, urgent, 'urgent-victim@example.org');
    const calmReg = await enrol(t, mine.token, calm, 'calm-victim@example.org');
    const otherReg = await enrol(t, theirs.token, other, 'other-victim@example.org');
    for (const [identifier, type] of [
      ['A-700-000-002', 'HEARING_SCHEDULED'],
      ['A-700-000-002', 'RELEASED'],
      ['A-700-000-001', 'TRANSFERRED'],
    ]) {
      const res = await postEvents(
        t,
        source,
        event({
          type,
          person: personWith(identifier),
          ...(type === 'TRANSFERRED' ? { toFacility: { code: 'NEW-01' } } : {}),
          ...(type === 'HEARING_SCHEDULED' ? { scheduledFor: '2027-01-15T09:00:00-06:00' } : {}),
        }),
      );
      expect(res.status, res.text).toBe(202);
    }
    await t.db.query(`UPDATE notification SET escalated_at = now() WHERE registration_id = $1 AND urgent`, [urgentReg]);
    // As the escalation job records it: the escalation is open until someone resolves it.
    await t.db.query(
      `INSERT INTO escalation (id, escalated_at) SELECT id, escalated_at FROM notification WHERE registration_id = $1 AND urgent`,
      [urgentReg],
    );

    const { agent } = await signIn(t, mine.email, mine.password);
    const list = await agent.get('/console/victims');
    expect(list.status).toBe(200);
    const order = [...list.text.matchAll(/data-registration-id="([^"]+)"/g)].map((m) => m[1]);
    expect(order).toEqual([urgentReg, calmReg]);
    expect(list.text).toContain('ESCALATED');
    expect(list.text).not.toContain(otherReg);

    // Resolved, it no longer holds the top: the newest alert does (failed before: the latest alert's old escalated flag kept it first).
    const [{ id: escalationId }] = (await t.db.query(`SELECT id FROM notification WHERE registration_id = $1 AND urgent`, [urgentReg]))
      .rows as { id: string }[];
    const resolved = await t
      .http()
      .post(`/v1/escalations/${escalationId}/resolve`)
      .set('Authorization', `Bearer ${mine.token}`)
      .send({ note: 'Reached by phone.' });
    expect(resolved.status, resolved.text).toBe(200);
    const newer = await postEvents(
      t,
      source,
      event({
        type: 'HEARING_SCHEDULED',
        person: personWith('A-700-000-001'),
        occurredAt: new Date().toISOString(),
        scheduledFor: '2027-02-01T09:00:00-06:00',
      }),
    );
    expect(newer.status, newer.text).toBe(202);
    const after = await agent.get('/console/victims');
    expect([...after.text.matchAll(/data-registration-id="([^"]+)"/g)].map((m) => m[1])).toEqual([calmReg, urgentReg]);
    expect(after.text).not.toContain('ESCALATED');

    const timeline = await agent.get(`/console/victims/${urgentReg}`);
    expect(timeline.status).toBe(200);
    const events = [...timeline.text.matchAll(/<li class="result[^"]*" data-event-type="([A-Z_]+)"/g)].map((m) => m[1]);
    expect(events).toEqual(['RELEASED', 'HEARING_SCHEDULED']);
    expect(timeline.text).not.toContain('urgent-victim@example.org');

    const refused = await agent.get(`/console/victims/${otherReg}`);
    expect(refused.status).toBe(404);
    expect(refused.headers['content-type']).toMatch(/^text\/html/);
  });

  it('#14 the console takes the password exactly as typed, as the API does: spaces at its ends are part of it', async () => {
    const email = `padded-${Date.now()}@test.vigil`;
    const password = '  a passphrase with spaces  ';
    const created = await t
      .http()
      .post('/v1/admin/staff')
      .set('Authorization', `Bearer ${await t.adminToken()}`)
      .send({ email, password, role: 'specialist' });
    expect(created.status).toBe(201);
    const { res } = await signIn(t, email, password);
    expect(res.status).toBe(303);
    // Trimmed, it is another password.
    expect((await signIn(t, email, password.trim())).res.status).toBe(401);
  });
});
