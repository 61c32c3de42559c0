import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/common/crypto/field-cipher.js';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { countSegments } from '../../src/delivery/sms-segments.js';
import { openMessage } from '../../src/delivery/victim-messages.service.js';
import { type ConsoleBrowser, consoleSignIn, csrfOn, newStaff } from '../support/console.js';
import type { FakeTwilio } from '../support/fake-twilio.js';
import { bookPerson } from '../support/registrations.js';
import { type Providers, startProviders } from '../support/providers.js';
import type { SmtpSink } from '../support/smtp-sink.js';
import { createSource, type TestSource } from '../support/sources.js';
import { ADMIN, startTestApp, type TestApp } from '../support/test-app.js';

const LONG_NAME =
  'Centro de Asistencia Integral para Víctimas de Trata de Personas, Violencia Doméstica y Agresión Sexual del Condado de Harris y Condados Vecinos';

describe('#14 services directory: admins keep it, specialists share it through the ledger, victims find the public part on the help page', () => {
  let t: TestApp;
  let providers: Providers;
  let smtp: SmtpSink;
  let twilio: FakeTwilio;
  let source: TestSource;
  let admin: ConsoleBrowser;
  let adminToken: string;
  let specialist: { email: string; password: string; token: string; browser: ConsoleBrowser };
  let other: { email: string; password: string; token: string; browser: ConsoleBrowser };

  beforeAll(async () => {
    providers = await startProviders();
    ({ smtp, twilio } = providers);
    t = await startTestApp({ env: providers.env });
    source = await createSource(t);
    admin = await consoleSignIn(t, ADMIN.email, ADMIN.password);
    adminToken = await t.adminToken();
    const staff = async () => {
      const login = await newStaff(t, 'specialist');
      return {
        ...login,
        token: await t.loginAs(login.email, login.password),
        browser: await consoleSignIn(t, login.email, login.password),
      };
    };
    specialist = await staff();
    other = await staff();
  });
  afterAll(async () => {
    await t?.close();
    await providers?.stop();
  });

  const api = {
    create: (body: Record<string, unknown>, token = adminToken) =>
      t.http().post('/v1/admin/services').set('Authorization', `Bearer ${token}`).send(body),
    update: (id: string, body: unknown, token = adminToken) =>
      t
        .http()
        .patch(`/v1/admin/services/${id}`)
        .set('Authorization', `Bearer ${token}`)
        .send(body as object),
    list: (query = '', token = adminToken) => t.http().get(`/v1/services${query}`).set('Authorization', `Bearer ${token}`),
    share: (registrationId: string, body: unknown, token: string) =>
      t
        .http()
        .post(`/v1/registrations/${registrationId}/services`)
        .set('Authorization', `Bearer ${token}`)
        .send(body as object),
  };
  const rowCount = async () => (await t.db.query(`SELECT count(*)::int AS n FROM support_service`)).rows[0].n as number;
  const auditCount = async (action: string, targetId?: string) =>
    (
      await t.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = $1 AND ($2::uuid IS NULL OR target_id = $2)`, [
        action,
        targetId ?? null,
      ])
    ).rows[0].n as number;

  /** An enrolment by `token`'s specialist, in `language`, with an email and an SMS contact. */
  async function enrol(token: string, language: 'en' | 'es') {
    const personId = await bookPerson(t, source, `A-${randomBytes(4).toString('hex')}`, { firstName: 'Ramón', lastName: 'Castillo' });
    const email = `victim-${randomBytes(4).toString('hex')}@example.org`;
    const sms = `+1713555${String(1000 + Math.floor(Math.random() * 9000))}`;
    const res = await t
      .http()
      .post('/v1/enrollments')
      .set('Authorization', `Bearer ${token}`)
      .send({
        personId,
        language,
        registrantName: 'Lucía Ortega',
        contacts: [
          { channel: 'email', address: email },
          { channel: 'sms', address: sms },
        ],
      });
    expect(res.status, res.text).toBe(201);
    return { registrationId: res.body.registrationId as string, email, sms };
  }

  it('#14 an admin adds a public service in the console: /en/help and /es/help list it by kind, in their language, with tel: and noopener links; a private one stays off', async () => {
    const form = await admin.get('/console/services/new');
    expect(form.status).toBe(200);
    expect(form.text).toContain('no street address');
    const created = await admin
      .post('/console/services')
      .type('form')
      .send({
        _csrf: csrfOn(form),
        name: 'Casa Segura',
        kind: 'shelter',
        phone: '1-800-799-7233',
        website: 'https://casasegura.example.org/ayuda',
        languages: 'en, es',
        area: 'Harris County',
        hours: '24 hours, every day',
        descriptionEn: 'Emergency shelter for survivors and their children.',
        descriptionEs: 'Refugio de emergencia para sobrevivientes y sus hijos.',
        public: 'on',
      });
    expect(created.status, created.text).toBe(303);
    expect(created.headers.location).toBe('/console/services?done=created');
    const { rows } = await t.db.query(`SELECT id, phone, website, languages, public FROM support_service WHERE name = 'Casa Segura'`);
    expect(rows).toEqual([
      {
        id: expect.any(String),
        phone: '+18007997233',
        website: 'https://casasegura.example.org/ayuda',
        languages: ['en', 'es'],
        public: true,
      },
    ]);
    expect(await auditCount('service.create', rows[0].id)).toBe(1);
    const hotline = await api.create({
      name: '988 Lifeline',
      kind: 'hotline',
      phone: '988',
      public: true,
      description: { en: 'Crisis line.' },
    });
    expect(hotline.status, hotline.text).toBe(201);
    expect(hotline.body.phone).toBe('988');
    const confidential = await api.create({ name: 'Refugio Confidencial', kind: 'shelter', phone: '+1 713 555 0199' });
    expect(confidential.status, confidential.text).toBe(201);
    expect(confidential.body.public).toBe(false);

    const en = await t.http().get('/en/help');
    expect(en.status).toBe(200);
    expect(en.headers['cache-control']).toContain('no-store');
    const shelters = en.text.slice(en.text.indexOf('data-service-kind="shelter"'));
    expect(shelters).toContain('Casa Segura');
    expect(en.text).toMatch(/<h3 id="services-shelter">Shelter<\/h3>/);
    expect(en.text).toContain('<a href="tel:+18007997233">(800) 799-7233</a>');
    expect(en.text).toContain('<a href="tel:988">988</a>');
    expect(en.text).toContain('href="https://casasegura.example.org/ayuda" rel="noopener noreferrer"');
    expect(en.text).toContain('Emergency shelter for survivors and their children.');
    expect(en.text).toContain('English, Spanish');
    expect(en.text).not.toContain('Refugio Confidencial');
    const es = await t.http().get('/es/help');
    expect(es.text).toMatch(/<h3 id="services-shelter">Refugio<\/h3>/);
    expect(es.text).toContain('Refugio de emergencia para sobrevivientes y sus hijos.');
    expect(es.text).not.toContain('Emergency shelter for survivors');
    // Given in English only, the description still shows, marked as English.
    expect(es.text).toContain('<p lang="en">Crisis line.</p>');
    expect(es.text).toContain('inglés, español');
    expect(es.text).not.toContain('Refugio Confidencial');
  });

  it('#14 edits, archiving and restoring are audited; an archived entry leaves the help page and the API list until restored', async () => {
    const created = await api.create({ name: 'Legal Clinic', kind: 'legal_aid', website: 'https://legal.example.org', public: true });
    const id = created.body.serviceId as string;
    const page = await admin.get(`/console/services/${id}/edit`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('value="Legal Clinic"');
    const saved = await admin
      .post(`/console/services/${id}`)
      .type('form')
      .send({
        _csrf: csrfOn(page),
        name: 'Legal Clinic of Houston',
        kind: 'legal_aid',
        website: 'https://legal.example.org/',
        public: 'on',
      });
    expect(saved.status, saved.text).toBe(303);
    const audit = await t.db.query(`SELECT details FROM audit_log WHERE action = 'service.update' AND target_id = $1`, [id]);
    expect(audit.rows).toEqual([{ details: { fields: ['name'] } }]);

    const archived = await admin
      .post(`/console/services/${id}/archive`)
      .type('form')
      .send({ _csrf: csrfOn(page) });
    expect(archived.status).toBe(303);
    expect(await auditCount('service.archive', id)).toBe(1);
    expect((await t.http().get('/en/help')).text).not.toContain('Legal Clinic of Houston');
    expect((await api.list()).body.services.map((s: { serviceId: string }) => s.serviceId)).not.toContain(id);
    const withArchived = await api.list('?archived=true');
    expect(withArchived.body.services.find((s: { serviceId: string }) => s.serviceId === id)).toMatchObject({ archived: true });
    const listed = await admin.get('/console/services?archived=on');
    expect(listed.text).toContain('ARCHIVED');

    // Deleting is refused by the database itself: the directory's history never vanishes.
    await expect(t.db.query(`DELETE FROM support_service WHERE id = $1`, [id])).rejects.toThrow(/archived, never deleted/);

    const restored = await admin
      .post(`/console/services/${id}/restore`)
      .type('form')
      .send({ _csrf: csrfOn(listed) });
    expect(restored.status).toBe(303);
    expect(await auditCount('service.restore', id)).toBe(1);
    expect((await t.http().get('/en/help')).text).toContain('Legal Clinic of Houston');
    // The API's changes are audited the same way.
    expect((await api.update(id, { hours: 'Mon-Fri 9-5' })).status).toBe(200);
    expect(await auditCount('service.update', id)).toBe(2);
  });

  it('#14 the console form refuses a bad phone, website, kind, languages, arrays, NUL and huge strings with a 422 page, and changes nothing', async () => {
    const good = { name: 'Counselling Centre', kind: 'counselling', phone: '713-555-0150', website: 'https://counsel.example.org' };
    const cases: [string, Record<string, unknown>, string][] = [
      ['a phone that is no number', { phone: '12345' }, 'phone'],
      ['a phone that is script', { phone: 'javascript:alert(1)' }, 'phone'],
      ['a javascript: website', { website: 'javascript:alert(1)' }, 'website'],
      ['an ftp website', { website: 'ftp://files.example.org' }, 'website'],
      ['a website with credentials', { website: 'https://user:pw@example.org' }, 'website'],
      ['a kind that does not exist', { kind: 'castle' }, 'kind'],
      ['language codes that are not', { languages: 'English!!, <b>' }, 'languages'],
      ['a name sent twice', { name: ['A', 'B'] }, 'name'],
      ['a kind sent twice', { kind: ['shelter', 'medical'] }, 'kind'],
      ['NUL in the name', { name: 'Counselling\u0000Centre' }, 'name'],
      ['NUL in a description', { descriptionEs: 'Ayuda\u0000' }, 'descriptionEs'],
      ['a huge name', { name: 'x'.repeat(5000) }, 'name'],
      ['a huge description', { descriptionEn: 'y'.repeat(5000) }, 'descriptionEn'],
      ['a line break in the hours', { hours: 'Mon\nTue' }, 'hours'],
    ];
    const before = await rowCount();
    const audits = await auditCount('service.create');
    for (const [what, change, field] of cases) {
      const form = await admin.get('/console/services/new');
      const res = await admin
        .post('/console/services')
        .type('form')
        .send({ _csrf: csrfOn(form), ...good, ...change });
      expect(res.status, what).toBe(422);
      expect(res.headers['content-type'], what).toMatch(/^text\/html/);
      expect(res.text, what).toMatch(new RegExp(`id="field-${field}"[^>]*aria-invalid="true"`));
      expect(res.text, what).toContain('href="#field-' + field + '"');
    }
    // A body past the form limit is refused before any handler, as a page too.
    const form = await admin.get('/console/services/new');
    const huge = await admin
      .post('/console/services')
      .type('form')
      .send({ _csrf: csrfOn(form), ...good, descriptionEn: 'z'.repeat(2_000_000) });
    expect([413, 422]).toContain(huge.status);
    expect(huge.headers['content-type']).toMatch(/^text\/html/);
    expect(await rowCount()).toBe(before);
    expect(await auditCount('service.create')).toBe(audits);

    // An edit with a bad field changes nothing either.
    const id = (await api.create(good)).body.serviceId as string;
    const edit = await admin.get(`/console/services/${id}/edit`);
    const bad = await admin
      .post(`/console/services/${id}`)
      .type('form')
      .send({ _csrf: csrfOn(edit), ...good, name: 'Renamed', website: 'javascript:alert(document.cookie)' });
    expect(bad.status).toBe(422);
    const { rows } = await t.db.query(`SELECT name, website FROM support_service WHERE id = $1`, [id]);
    expect(rows[0]).toEqual({ name: 'Counselling Centre', website: 'https://counsel.example.org/' });
    expect(await auditCount('service.update', id)).toBe(0);

    // An optional field sent twice on an edit is a mistake shown, not a blank that clears the entry's phone.
    const twice = await admin
      .post(`/console/services/${id}`)
      .type('form')
      .send({ _csrf: csrfOn(edit), ...good, phone: ['713-555-0150', '713-555-0151'] });
    expect(twice.status).toBe(422);
    expect(twice.text).toMatch(/id="field-phone"[^>]*aria-invalid="true"/);
    const after = await t.db.query(`SELECT phone FROM support_service WHERE id = $1`, [id]);
    expect(after.rows[0].phone).toBe('+17135550150');
    expect(await auditCount('service.update', id)).toBe(0);
  });

  it('#14 the API validates strictly: unknown fields and wrong types 422, null clears an optional field, a missing entry 404, roles enforced', async () => {
    const before = await rowCount();
    for (const body of [
      { name: 'X', kind: 'shelter', address: '1 Main St' },
      { name: 5, kind: 'shelter' },
      { name: 'X', kind: 'shelter', public: 'yes' },
      { name: 'X', kind: 'shelter', languages: 'en' },
      { name: 'X', kind: 'shelter', languages: [['en']] },
      { name: 'X', kind: 'shelter', description: 'text' },
      { name: 'X', kind: 'shelter', description: { fr: 'Bonjour' } },
      { name: 'X', kind: 'shelter', phone: 7135550150 },
      { name: 'X', kind: 'shelter', website: 'data:text/html,hi' },
      { name: 'X\u0000', kind: 'shelter' },
      { name: 'x'.repeat(201), kind: 'shelter' },
      [{ name: 'X', kind: 'shelter' }],
    ]) {
      const res = await api.create(body as Record<string, unknown>);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(422);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect(await rowCount()).toBe(before);

    const created = await api.create({ name: 'Medical Van', kind: 'medical', phone: '(713) 555-0160 ext. 12', languages: ['EN', 'es'] });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ phone: '+17135550160;ext=12', languages: ['en', 'es'], archived: false, description: {} });
    const id = created.body.serviceId as string;
    expect((await api.update(id, { phone: null })).body.phone).toBeNull();
    expect((await api.update(id, {})).status).toBe(422);
    expect((await api.update(id, { name: null })).status).toBe(422);
    expect((await api.update(id, { owner: 'me' })).status).toBe(422);
    expect((await api.update('00000000-0000-4000-8000-000000000000', { name: 'Y' })).status).toBe(404);

    expect((await api.create({ name: 'By a specialist', kind: 'other' }, specialist.token)).status).toBe(403);
    expect((await api.update(id, { name: 'By a specialist' }, specialist.token)).status).toBe(403);
    expect((await api.list('', specialist.token)).status).toBe(200);
    expect((await t.http().get('/v1/services')).status).toBe(401);
    expect((await api.list('?kind=castle')).status).toBe(422);
    expect((await api.list('?kind=medical&q=VAN')).body.services.map((s: { name: string }) => s.name)).toEqual(['Medical Van']);

    const doc = (await t.http().get('/docs-json')).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/services', '/v1/admin/services', '/v1/admin/services/{id}', '/v1/registrations/{id}/services']),
    );
  });

  it('#14 a specialist shares a service with their Spanish-speaking victim: email and SMS in Spanish with its name and phone, two SMS segments at most; the ledger keeps it as it was', async () => {
    const created = await api.create({
      name: LONG_NAME,
      kind: 'immigration_relief',
      phone: '1-800-799-7233',
      website: 'https://ayuda.example.org/servicios/victimas/trata/presencia-continuada',
      description: { es: 'Ayuda con la Presencia Continuada y las visas T y U.' },
    });
    expect(created.status, created.text).toBe(201);
    const serviceId = created.body.serviceId as string;
    const victim = await enrol(specialist.token, 'es');
    await t.app.get(DispatcherService).drain();
    const mailsBefore = smtp.to(victim.email).length;
    const textsBefore = twilio.messagesTo(victim.sms).length;

    const page = await specialist.browser.get(`/console/victims/${victim.registrationId}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('id="share-service"');
    expect(page.text).toContain(`<option value="${serviceId}">`);
    const shared = await specialist.browser
      .post(`/console/victims/${victim.registrationId}/services`)
      .type('form')
      .send({ _csrf: csrfOn(page), serviceId });
    expect(shared.status, shared.text).toBe(303);
    expect(shared.headers.location).toMatch(new RegExp(`^/console/victims/${victim.registrationId}\\?shared=[0-9a-f-]{36}#share-service$`));
    const after = await specialist.browser.get(shared.headers.location.replace(/#.*$/, ''));
    expect(after.text).toContain('is on its way to 2 contacts');
    expect(after.text).toMatch(/data-kind="service"[\s\S]*Service shared: Centro de Asistencia Integral/);

    await t.app.get(DispatcherService).drain();
    const mails = smtp.to(victim.email).slice(mailsBefore);
    expect(mails).toHaveLength(1);
    expect(mails[0].subject).toBe(`Un servicio para usted: ${LONG_NAME}`);
    expect(mails[0].text).toContain('Teléfono: (800) 799-7233');
    expect(mails[0].text).toContain('Ayuda con la Presencia Continuada y las visas T y U.');
    expect(mails[0].text).toContain('Si está en peligro, llame al 911.');
    expect(mails[0].html).toContain('href="tel:+18007997233"');
    const texts = twilio.messagesTo(victim.sms).slice(textsBefore);
    expect(texts).toHaveLength(1);
    const sms = texts[0].params.Body;
    expect(sms).toMatch(/^Vigil: Su especialista compart/);
    expect(sms).toContain('Centro de Asistencia Integral');
    expect(sms).toContain('(800) 799-7233');
    expect(countSegments(sms).segments).toBeLessThanOrEqual(2);
    expect(await auditCount('service.share', serviceId)).toBe(1);

    // The entry changes afterwards; what the victim was sent does not.
    expect((await api.update(serviceId, { name: 'Renamed Centre', phone: '988' })).status).toBe(200);
    const ledger = await t
      .http()
      .get(`/v1/registrations/${victim.registrationId}/notifications`)
      .set('Authorization', `Bearer ${specialist.token}`);
    const entry = ledger.body.notifications.find((n: { kind: string }) => n.kind === 'service');
    expect(entry.service).toEqual({ name: LONG_NAME, kind: 'immigration_relief' });
    // Sealed to its notification; only the kind is plain.
    const { rows } = await t.db.query(
      `SELECT id, message, message_sealed AS "messageSealed" FROM notification WHERE registration_id = $1 AND kind = 'service'`,
      [victim.registrationId],
    );
    expect(rows[0].message).toEqual({ service: { kind: 'immigration_relief' } });
    expect(openMessage(t.app.get(FieldCipher), rows[0].id, rows[0])?.service).toMatchObject({
      serviceId,
      name: LONG_NAME,
      phone: '+18007997233',
    });
    const timeline = await specialist.browser.get(`/console/victims/${victim.registrationId}`);
    expect(timeline.text).toContain(`Service shared: ${LONG_NAME}`);

    // The API shares the same way: 202 with the ledger entry.
    const viaApi = await api.share(victim.registrationId, { serviceId }, specialist.token);
    expect(viaApi.status, viaApi.text).toBe(202);
    expect(viaApi.body).toEqual({ notificationId: expect.any(String), queued: 2 });
  });

  it('#14 sharing is refused for another specialist’s victim (404 as for none), an archived service (422), stopped alerts (409), and bad bodies (422)', async () => {
    const service = (await api.create({ name: 'Shelter North', kind: 'shelter', phone: '713-555-0170' })).body.serviceId as string;
    const archived = (await api.create({ name: 'Closed Clinic', kind: 'medical' })).body.serviceId as string;
    await api.update(archived, { archived: true });
    const mine = await enrol(specialist.token, 'en');
    const shares = async () =>
      (
        await t.db.query(`SELECT count(*)::int AS n FROM notification WHERE kind = 'service' AND registration_id = $1`, [
          mine.registrationId,
        ])
      ).rows[0].n as number;

    // Another specialist: the page and the API answer as for a registration that does not exist.
    const theirs = await other.browser.get('/console/services');
    const refused = await other.browser
      .post(`/console/victims/${mine.registrationId}/services`)
      .type('form')
      .send({ _csrf: csrfOn(theirs), serviceId: service });
    const missing = await other.browser
      .post(`/console/victims/00000000-0000-4000-8000-000000000000/services`)
      .type('form')
      .send({ _csrf: csrfOn(theirs), serviceId: service });
    expect(refused.status).toBe(404);
    expect(refused.headers['content-type']).toMatch(/^text\/html/);
    const heading = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1];
    expect(heading(refused.text)).toBe(heading(missing.text));
    expect(missing.status).toBe(404);
    const apiRefused = await api.share(mine.registrationId, { serviceId: service }, other.token);
    const apiMissing = await api.share('00000000-0000-4000-8000-000000000000', { serviceId: service }, other.token);
    expect(apiRefused.status).toBe(404);
    expect({ ...apiRefused.body, errorId: undefined, instance: undefined }).toEqual({
      ...apiMissing.body,
      errorId: undefined,
      instance: undefined,
    });
    expect(await shares()).toBe(0);

    // An archived service, or one that never was: the form again with the choice marked, and the API's 422.
    const page = await specialist.browser.get(`/console/victims/${mine.registrationId}`);
    expect(page.text).not.toContain(`<option value="${archived}">`);
    for (const serviceId of [archived, '', 'not-a-uuid', ['a', 'b']]) {
      const res = await specialist.browser
        .post(`/console/victims/${mine.registrationId}/services`)
        .type('form')
        .send({ _csrf: csrfOn(page), serviceId });
      expect(res.status, String(serviceId)).toBe(422);
      expect(res.text).toMatch(/id="field-serviceId"[^>]*aria-invalid="true"/);
    }
    expect((await api.share(mine.registrationId, { serviceId: archived }, specialist.token)).status).toBe(422);
    for (const body of [{}, { serviceId: 'x' }, { serviceId: service, note: 'hi' }, { serviceId: 5 }]) {
      expect((await api.share(mine.registrationId, body, specialist.token)).status, JSON.stringify(body)).toBe(422);
    }
    expect(await shares()).toBe(0);

    // Stopped alerts: nothing can be sent, and the page says so instead of offering the form.
    const stopped = await t.http().delete(`/v1/registrations/${mine.registrationId}`).set('Authorization', `Bearer ${specialist.token}`);
    expect(stopped.status).toBe(204);
    expect((await api.share(mine.registrationId, { serviceId: service }, specialist.token)).status).toBe(409);
    const stoppedPage = await specialist.browser.get(`/console/victims/${mine.registrationId}`);
    expect(stoppedPage.text).toContain('Alerts for this victim are stopped');
    expect(stoppedPage.text).not.toContain(`action="/console/victims/${mine.registrationId}/services"`);
    expect(await shares()).toBe(0);
  });

  it('#14 a specialist reads the directory but gets a 403 page on every admin route of it', async () => {
    const id = (await api.create({ name: 'Hotline South', kind: 'hotline', phone: '211' })).body.serviceId as string;
    const list = await specialist.browser.get('/console/services');
    expect(list.status).toBe(200);
    expect(list.text).toContain('Hotline South');
    expect(list.text).not.toContain('/console/services/new');
    expect(list.text).not.toContain(`/console/services/${id}/archive`);
    for (const path of ['/console/services/new', `/console/services/${id}/edit`]) {
      const res = await specialist.browser.get(path);
      expect(res.status, path).toBe(403);
      expect(res.text, path).toContain('This page is for administrators.');
    }
    for (const path of [
      '/console/services',
      `/console/services/${id}`,
      `/console/services/${id}/archive`,
      `/console/services/${id}/restore`,
    ]) {
      const res = await specialist.browser
        .post(path)
        .type('form')
        .send({ _csrf: csrfOn(list), name: 'Taken over', kind: 'other' });
      expect(res.status, path).toBe(403);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
    }
    const { rows } = await t.db.query(`SELECT name, archived_at FROM support_service WHERE id = $1`, [id]);
    expect(rows[0]).toEqual({ name: 'Hotline South', archived_at: null });
    // Every directory page is no-store, like every console page.
    expect(list.headers['cache-control']).toContain('no-store');
    // The navigation leads there for everyone.
    expect(list.text).toContain('<a href="/console/services">Services</a>');
  });
});
