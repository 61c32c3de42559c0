import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/common/crypto/field-cipher.js';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { countSegments } from '../../src/delivery/sms-segments.js';
import { type ConsoleBrowser, consoleSignIn, csrfOn, newStaff } from '../support/console.js';
import { cookieNamed } from '../support/page-routes.js';
import type { FakeTwilio } from '../support/fake-twilio.js';
import { bookPerson } from '../support/registrations.js';
import { type Providers, startProviders } from '../support/providers.js';
import type { SmtpSink } from '../support/smtp-sink.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { ADMIN, startTestApp, type TestApp } from '../support/test-app.js';

/** #14 the specialist's enrolment, resend and stop, from the console's pages. */
describe('#14 console: enrol a victim, resend, stop alerts at the victim’s request', () => {
  let t: TestApp;
  let providers: Providers;
  let smtp: SmtpSink;
  let twilio: FakeTwilio;
  let source: TestSource;
  let specialist: ConsoleBrowser;
  let specialistEmail: string;
  let phone = 7135552600;

  beforeAll(async () => {
    providers = await startProviders();
    ({ smtp, twilio } = providers);
    t = await startTestApp({ env: providers.env });
    source = await createSource(t);
    const staff = await newStaff(t, 'specialist');
    specialistEmail = staff.email;
    specialist = await consoleSignIn(t, staff.email, staff.password);
  });
  afterAll(async () => {
    await t.close();
    await providers?.stop();
  });

  const drain = () => t.app.get(DispatcherService).drain();
  const nextPhone = () => `+1${++phone}`;
  const count = async (sql: string, params: unknown[] = []) => (await t.db.query(sql, params)).rows[0].n as number;
  const registrations = () => count(`SELECT count(*)::int AS n FROM registration`);

  /** The enrolment form's fields, as a browser posts them (a checkbox that is not ticked is not sent). */
  function fields(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      registrantName: 'Ana Beltrán',
      language: 'es',
      email: `victim-${phone}@example.org`,
      phone: nextPhone(),
      sms: 'on',
      timeZone: 'America/Chicago',
      sendConfirmation: 'on',
      ...overrides,
    };
  }

  async function enrol(browser: ConsoleBrowser, personId: string, body: Record<string, unknown>) {
    const form = await browser.get(`/console/enrol/${personId}`);
    expect(form.status, form.text).toBe(200);
    return browser
      .post(`/console/enrol/${personId}`)
      .type('form')
      .send({ _csrf: csrfOn(form), ...body });
  }

  const registrationOf = (res: { headers: Record<string, string> }) =>
    /^\/console\/victims\/([0-9a-f-]{36})$/.exec(res.headers.location)![1];

  it('#14 a specialist finds the person, enrols a Spanish-speaking victim with email, SMS and a confirmation; both arrive in Spanish, name the person, and the manage link opens the victim’s page', async () => {
    const personId = await bookPerson(t, source, 'A-740-000-001', { firstName: 'Rodrigo', lastName: 'Quintana' });
    const nav = await specialist.get('/console/');
    expect(nav.text).toContain('href="/console/enrol"');

    const found = await specialist.get('/console/enrol').query({ identifierSystem: 'A_NUMBER', identifier: 'A740000001' });
    expect(found.status).toBe(200);
    expect(found.text).toContain(`href="/console/enrol/${personId}"`);
    const byName = await specialist.get('/console/enrol').query({ lastName: 'quintana', firstName: 'RODRIGO' });
    expect(byName.text).toContain(`data-person-id="${personId}"`);
    expect(
      await count(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'person.lookup' AND details->>'purpose' = 'enrolment'`),
    ).toBe(2);

    const form = await specialist.get(`/console/enrol/${personId}`);
    expect(form.text).toContain('Rodrigo Quintana');
    expect(form.text).toMatch(/id="field-sendConfirmation"[^>]*checked/);
    expect(form.text).toContain('a message can put the victim in danger');
    expect(form.text).toContain('You confirm these contacts belong to the victim');

    const body = fields();
    const res = await enrol(specialist, personId, body);
    expect(res.status, res.text).toBe(303);
    const registrationId = registrationOf(res);

    const stored = await t.db.query(`SELECT language, enrolled_by, registrant_name FROM registration WHERE id = $1`, [registrationId]);
    expect(stored.rows[0].language).toBe('es');
    expect(stored.rows[0].registrant_name).not.toContain('Ana');
    expect(t.app.get(FieldCipher).decrypt(stored.rows[0].registrant_name, 'registration.registrant_name', registrationId)).toBe(
      'Ana Beltrán',
    );
    const [{ n: ledgerRows }] = (
      await t.db.query(
        `SELECT count(*)::int AS n FROM notification n JOIN delivery d ON d.notification_id = n.id WHERE n.registration_id = $1 AND n.kind = 'enrolled'`,
        [registrationId],
      )
    ).rows;
    expect(ledgerRows).toBe(2);

    const timeline = await specialist.get(res.headers.location);
    expect(timeline.status).toBe(200);
    expect(timeline.text).toContain('A confirmation is on its way to: Email, Text message.');
    expect(timeline.text).toContain('Ana Beltrán');
    expect(timeline.text).toContain('data-kind="enrolled"');
    // One time only: a reload does not say it again.
    expect((await specialist.get(res.headers.location)).text).not.toContain('A confirmation is on its way');

    expect(await drain()).toBe(2);
    const [mail] = smtp.to(body.email as string);
    expect(mail.subject).toBe('Está inscrito en las alertas de custodia de Vigil');
    expect(mail.text).toContain('Rodrigo Quintana');
    expect(mail.text).toContain('Si está en peligro, llame al 911.');
    const [sms] = twilio.messagesTo(body.phone as string);
    expect(sms.params.Body).toContain('Rodrigo Quintana');
    expect(sms.params.Body).toContain('especialista');
    expect(countSegments(sms.params.Body).segments).toBeLessThanOrEqual(2);
    for (const text of [mail.text ?? '', sms.params.Body]) {
      const link = /https?:\/\/[^/\s]+(\/es\/manage\?token=[^\s"]+)/.exec(text);
      expect(link, text).not.toBeNull();
      const opened = await t.http().get(link![1]);
      expect(opened.status).toBe(303);
      expect(opened.headers.location).toBe('/es/manage');
      const session = cookieNamed(opened, 'vigil_session')!;
      const page = await t.http().get('/es/manage').set('Cookie', session);
      expect(page.status).toBe(200);
      expect(page.text).toContain('Rodrigo Quintana');
    }
  });

  it('#14 with the confirmation unticked nothing is sent, and the notice says so', async () => {
    const personId = await bookPerson(t, source, 'A-740-000-002');
    const { sendConfirmation: _, ...unticked } = fields();
    const res = await enrol(specialist, personId, unticked);
    expect(res.status, res.text).toBe(303);
    const registrationId = registrationOf(res);
    expect(await count(`SELECT count(*)::int AS n FROM notification WHERE registration_id = $1`, [registrationId])).toBe(0);
    expect(await drain()).toBe(0);
    expect(smtp.to(unticked.email as string)).toHaveLength(0);
    expect((await specialist.get(res.headers.location)).text).toContain('No confirmation was sent, as you chose.');
  });

  it('#14 a voice contact without a PIN answers 422 with the form again, every field kept, the error linked to its field, nothing created', async () => {
    const personId = await bookPerson(t, source, 'A-740-000-003');
    const before = await registrations();
    const body = fields({ voice: 'on', eventTypes: ['RELEASED', 'ESCAPED'], quietStart: '22:00', quietEnd: '07:00' });
    const res = await enrol(specialist, personId, body);
    expect(res.status).toBe(422);
    expect(res.text).toContain('href="#field-pin"');
    expect(res.text).toMatch(/id="field-pin"[^>]*aria-describedby="hint-pin error-pin"[^>]*aria-invalid="true"/);
    // Words for the specialist filling the form in, not the sign-up's words to the victim.
    expect(res.text).toContain('Phone calls need a PIN: enter the 4 digits the victim chose.');
    expect(res.text).not.toContain('you will remember');
    expect(res.text).toContain('value="Ana Beltrán"');
    expect(res.text).toContain(`value="${body.email as string}"`);
    expect(res.text).toContain(`value="${body.phone as string}"`);
    expect(res.text).toMatch(/id="field-language-es"[^>]*checked/);
    expect(res.text).toMatch(/id="field-sms"[^>]*checked/);
    expect(res.text).toMatch(/id="field-voice"[^>]*checked/);
    expect(res.text).toMatch(/value="RELEASED" checked/);
    expect(res.text).toMatch(/value="ESCAPED" checked/);
    expect(res.text).not.toMatch(/value="BOOKED" checked/);
    expect(res.text).toContain('value="22:00"');
    expect(res.text).toMatch(/id="field-sendConfirmation"[^>]*checked/);
    expect(await registrations()).toBe(before);
  });

  it('#14 timeline: a RELEASED event shows; resend queues a second round; a second resend before it went out is a 409 notice; stop with a reason ends the registration, the reason sealed and kept out of the audit log', async () => {
    const personId = await bookPerson(t, source, 'A-740-000-004', { firstName: 'Esteban', lastName: 'Ruiz' });
    const { sendConfirmation: _, ...body } = fields({ language: 'en' });
    const res = await enrol(specialist, personId, body);
    const registrationId = registrationOf(res);
    const released = await postEvents(t, source, event({ type: 'RELEASED', person: personWith('A-740-000-004') }));
    expect(released.status).toBe(202);
    expect(await drain()).toBe(2);

    const timeline = await specialist.get(`/console/victims/${registrationId}`);
    expect(timeline.text).toContain('data-event-type="RELEASED"');
    const notificationId = /data-notification-id="([0-9a-f-]{36})"/.exec(timeline.text)![1];
    const resendPath = `/console/victims/${registrationId}/notifications/${notificationId}/resend`;
    expect(timeline.text).toContain(`action="${resendPath}"`);

    const first = await specialist
      .post(resendPath)
      .type('form')
      .send({ _csrf: csrfOn(timeline) });
    expect(first.status).toBe(303);
    const rounds = () =>
      t.db.query(`SELECT round, count(*)::int AS n FROM delivery WHERE notification_id = $1 GROUP BY round ORDER BY round`, [
        notificationId,
      ]);
    expect((await rounds()).rows).toEqual([
      { round: 0, n: 2 },
      { round: 1, n: 2 },
    ]);
    expect((await specialist.get(`/console/victims/${registrationId}`)).text).toContain('Resent to 2 contacts.');
    const again = await specialist
      .post(resendPath)
      .type('form')
      .send({ _csrf: csrfOn(timeline) });
    expect(again.status).toBe(409);
    expect(again.text).toContain('already on its way');
    expect(again.text).toContain('data-event-type="RELEASED"');
    expect((await rounds()).rows).toHaveLength(2);
    expect(
      await count(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'notification.resend' AND target_id = $1`, [notificationId]),
    ).toBe(1);

    // The second round is still waiting; stopping withholds it.
    const manageLink = `/en/manage?token=${encodeURIComponent(
      t.app
        .get(FieldCipher)
        .decrypt(
          (await t.db.query(`SELECT manage_token FROM registration WHERE id = $1`, [registrationId])).rows[0].manage_token,
          'registration.manage_token',
          registrationId,
        ),
    )}`;
    expect((await t.http().get(manageLink)).status).toBe(303);
    const stopPage = await specialist.get(`/console/victims/${registrationId}/stop`);
    expect(stopPage.status).toBe(200);
    expect(stopPage.text).toContain('never an address, phone number or name');
    const noReason = await specialist
      .post(`/console/victims/${registrationId}/stop`)
      .type('form')
      .send({ _csrf: csrfOn(stopPage), reason: '  ' });
    expect(noReason.status).toBe(422);
    expect(noReason.text).toContain('href="#field-reason"');
    const tooLong = await specialist
      .post(`/console/victims/${registrationId}/stop`)
      .type('form')
      .send({ _csrf: csrfOn(stopPage), reason: 'x'.repeat(501) });
    expect(tooLong.status).toBe(422);
    expect((await t.db.query(`SELECT status FROM registration WHERE id = $1`, [registrationId])).rows[0].status).toBe('active');

    const stopped = await specialist
      .post(`/console/victims/${registrationId}/stop`)
      .type('form')
      .send({ _csrf: csrfOn(stopPage), reason: 'Victim asked by phone to stop all alerts' });
    expect(stopped.status).toBe(303);
    expect((await t.db.query(`SELECT status FROM registration WHERE id = $1`, [registrationId])).rows[0].status).toBe('stopped');
    // #14 the reason tells a victim's circumstances: sealed on the registration, only its presence audited.
    const audit = await t.db.query(`SELECT details FROM audit_log WHERE action = 'registration.stop' AND target_id = $1`, [registrationId]);
    expect(audit.rows).toEqual([{ details: { reasonGiven: true } }]);
    const plainAnywhere = await t.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE details::text LIKE '%asked by phone%'`);
    expect(plainAnywhere.rows).toEqual([{ n: 0 }]);
    const sealed = await t.db.query(`SELECT stop_reason AS "stopReason" FROM registration WHERE id = $1`, [registrationId]);
    expect(sealed.rows[0].stopReason).toMatch(/^v2\./);
    expect(sealed.rows[0].stopReason).not.toContain('asked by phone');
    expect((await rounds()).rows).toHaveLength(2);
    const waiting = await t.db.query(`SELECT status FROM delivery WHERE notification_id = $1 AND round = 1`, [notificationId]);
    expect(waiting.rows.map((r) => r.status)).toEqual(['suppressed', 'suppressed']);
    expect(await drain()).toBe(0);
    expect((await t.http().get(manageLink)).status).toBe(404);

    const after = await specialist.get(`/console/victims/${registrationId}`);
    expect(after.text).toContain('Alerts stopped.');
    expect(after.text).toContain('data-stopped="true"');
    expect(after.text).toContain(specialistEmail);
    expect(after.text).toContain('Victim asked by phone to stop all alerts');
    expect(after.text).not.toContain('/resend"');
    expect(after.text).not.toContain(`/console/victims/${registrationId}/stop"`);
    const late = await specialist
      .post(resendPath)
      .type('form')
      .send({ _csrf: csrfOn(after) });
    expect(late.status).toBe(404);
    expect((await rounds()).rows).toHaveLength(2);
  });

  it('#14 another specialist’s victim answers 404 on the timeline, resend, stop page and stop, and nothing changes', async () => {
    const personId = await bookPerson(t, source, 'A-740-000-005');
    const res = await enrol(specialist, personId, fields());
    const registrationId = registrationOf(res);
    const notificationId = (await t.db.query(`SELECT id FROM notification WHERE registration_id = $1`, [registrationId])).rows[0].id;
    const staff = await newStaff(t, 'specialist');
    const other = await consoleSignIn(t, staff.email, staff.password);
    const csrf = csrfOn(await other.get('/console/'));
    expect((await other.get(`/console/victims/${registrationId}`)).status).toBe(404);
    expect((await other.get(`/console/victims/${registrationId}/stop`)).status).toBe(404);
    expect(
      (await other.post(`/console/victims/${registrationId}/stop`).type('form').send({ _csrf: csrf, reason: 'not mine' })).status,
    ).toBe(404);
    expect(
      (await other.post(`/console/victims/${registrationId}/notifications/${notificationId}/resend`).type('form').send({ _csrf: csrf }))
        .status,
    ).toBe(404);
    expect((await t.db.query(`SELECT status FROM registration WHERE id = $1`, [registrationId])).rows[0].status).toBe('active');
    expect(await count(`SELECT count(*)::int AS n FROM delivery WHERE notification_id = $1`, [notificationId])).toBe(2);
    // And without the CSRF token, even the owner is refused.
    expect((await specialist.post(`/console/victims/${registrationId}/stop`).type('form').send({ reason: 'no token' })).status).toBe(403);
  });

  it('#14 who may find whom: a specialist finds a minor but not a protected person; an admin finds both, and is told plainly that nothing goes out while protected', async () => {
    const minor = await bookPerson(t, source, 'A-740-000-006', { dateOfBirth: '2012-05-01' });
    const hidden = await bookPerson(t, source, 'A-740-000-007', { firstName: 'Oculto', lastName: 'Protegido' });
    const put = await t
      .http()
      .put(`/v1/admin/people/${hidden}/protection`)
      .set('Authorization', `Bearer ${await t.adminToken()}`)
      .send({ protected: true, reason: 'Court order' });
    expect(put.status).toBe(200);
    // The public search shows neither.
    for (const identifier of ['A-740-000-006', 'A-740-000-007']) {
      expect((await t.http().get('/v1/people').query({ identifierSystem: 'A_NUMBER', identifier })).body.people).toHaveLength(0);
    }
    const search = (browser: ConsoleBrowser, identifier: string) =>
      browser.get('/console/enrol').query({ identifierSystem: 'A_NUMBER', identifier });
    const minorFound = await search(specialist, 'A-740-000-006');
    expect(minorFound.text).toContain(`data-person-id="${minor}"`);
    expect(minorFound.text).toContain('data-minor="true"');
    expect(minorFound.text).toContain('Only admins find protected persons');
    expect((await search(specialist, 'A-740-000-007')).text).not.toContain(hidden);
    expect((await specialist.get(`/console/enrol/${hidden}`)).status).toBe(404);
    expect((await enrol(specialist, minor, fields())).status).toBe(303);

    const admin = await consoleSignIn(t, ADMIN.email, ADMIN.password);
    const adminFound = await search(admin, 'A-740-000-007');
    expect(adminFound.text).toContain(`data-person-id="${hidden}"`);
    expect(adminFound.text).toContain('data-protected="true"');
    const form = await admin.get(`/console/enrol/${hidden}`);
    expect(form.text).toContain('no alert and no confirmation goes out while the protection lasts');
    const body = fields();
    const res = await admin
      .post(`/console/enrol/${hidden}`)
      .type('form')
      .send({ _csrf: csrfOn(form), ...body });
    expect(res.status, res.text).toBe(303);
    expect((await admin.get(res.headers.location)).text).toContain('The person is protected: no confirmation and no alert goes out');
    await drain();
    expect(smtp.to(body.email as string)).toHaveLength(0);
    expect(twilio.messagesTo(body.phone as string)).toHaveLength(0);
  });

  it('#14 fuzzed enrolment fields (arrays, NUL, huge strings, a bad language) answer 4xx and create nothing', async () => {
    const personId = await bookPerson(t, source, 'A-740-000-008');
    const before = await registrations();
    const form = await specialist.get(`/console/enrol/${personId}`);
    const csrf = csrfOn(form);
    const cases: Record<string, unknown>[] = [
      fields({ email: ['a@example.org', 'b@example.org'] }),
      fields({ registrantName: 'Ana\u0000Beltrán' }),
      fields({ registrantName: 'A'.repeat(100_000) }),
      fields({ email: `${'a'.repeat(5000)}@example.org` }),
      fields({ phone: '\u0000' }),
      fields({ language: 'fr' }),
      fields({ language: ['en', 'es'] }),
      fields({ pin: ['1234', '5678'], voice: 'on' }),
      fields({ quietStart: '25:00', quietEnd: '07:00' }),
      fields({ quietStart: '22:00', quietEnd: '07:00', timeZone: 'Mars/Olympus' }),
      fields({ eventTypes: { RELEASED: 'on' } }),
      fields({ eventTypes: ['RELEASED', 'NOT_A_TYPE'] }),
      fields({ sendConfirmation: ['on', 'on'] }),
      fields({ email: '', phone: '' }),
    ];
    for (const body of cases) {
      const res = await specialist
        .post(`/console/enrol/${personId}`)
        .type('form')
        .send({ _csrf: csrf, ...body });
      expect(res.status, JSON.stringify(body).slice(0, 200)).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    const huge = await specialist
      .post(`/console/enrol/${personId}`)
      .type('form')
      .send({ _csrf: csrf, ...fields(), registrantName: 'x'.repeat(3_000_000) });
    expect(huge.status).toBeGreaterThanOrEqual(400);
    expect(huge.status).toBeLessThan(500);
    expect(await registrations()).toBe(before);
    const search = await specialist.get('/console/enrol').query({ identifierSystem: 'A_NUMBER', identifier: 'x\u0000y' });
    expect(search.status).toBe(422);
  });
});

describe('#14 POST /v1/enrollments: sendConfirmation', () => {
  let t: TestApp;
  let source: TestSource;
  let specialist: string;

  beforeAll(async () => {
    t = await startTestApp();
    source = await createSource(t);
    specialist = await t.staffToken('specialist');
  });
  afterAll(() => t.close());

  const enrol = (body: Record<string, unknown>) => t.http().post('/v1/enrollments').set('Authorization', `Bearer ${specialist}`).send(body);
  const base = (personId: string) => ({
    personId,
    language: 'en',
    contacts: [{ channel: 'email', address: `api-${personId.slice(0, 8)}@example.org` }],
  });
  const messages = async (registrationId: string) =>
    (await t.db.query(`SELECT kind FROM notification WHERE registration_id = $1`, [registrationId])).rows.map((r) => r.kind);

  it('#14 omitted, nothing is sent (clients written before it expect no message); true queues the confirmation with the enrolment; it is in OpenAPI', async () => {
    const quiet = await enrol(base(await bookPerson(t, source, 'API-ENROL-1')));
    expect(quiet.status).toBe(201);
    expect(quiet.body.confirmation).toBeUndefined();
    expect(await messages(quiet.body.registrationId)).toEqual([]);
    const told = await enrol({ ...base(await bookPerson(t, source, 'API-ENROL-2')), sendConfirmation: true });
    expect(told.status).toBe(201);
    expect(told.body.confirmation).toEqual({ notificationId: expect.any(String), deliveries: 1 });
    expect(await messages(told.body.registrationId)).toEqual(['enrolled']);
    const docs = await t.http().get('/docs-json');
    expect(JSON.stringify(docs.body.components.schemas.CreateEnrollmentDto.properties.sendConfirmation)).toContain('"default":false');
  });

  it('#14 a sendConfirmation that is not a boolean, or an unknown field, answers 422 and creates nothing', async () => {
    const personId = await bookPerson(t, source, 'API-ENROL-3');
    const before = (await t.db.query(`SELECT count(*)::int AS n FROM registration`)).rows[0].n;
    for (const extra of [{ sendConfirmation: 'true' }, { sendConfirmation: 1 }, { sendConfirmation: null }, { sendConfirmations: true }]) {
      const res = await enrol({ ...base(personId), ...extra });
      expect(res.status, JSON.stringify(extra)).toBe(422);
    }
    expect((await t.db.query(`SELECT count(*)::int AS n FROM registration`)).rows[0].n).toBe(before);
  });

  it('#14 a specialist may enrol for a minor but not a protected person (answered like an unknown one); an admin may do both', async () => {
    const minor = await bookPerson(t, source, 'API-ENROL-MINOR', { dateOfBirth: '2013-02-03' });
    const hidden = await bookPerson(t, source, 'API-ENROL-HIDDEN');
    const admin = await t.adminToken();
    await t
      .http()
      .put(`/v1/admin/people/${hidden}/protection`)
      .set('Authorization', `Bearer ${admin}`)
      .send({ protected: true, reason: 'x' });
    expect((await enrol(base(minor))).status).toBe(201);
    const refused = await enrol(base(hidden));
    const unknown = await enrol(base('00000000-0000-4000-8000-000000000000'));
    expect(refused.status).toBe(422);
    expect(refused.body).toEqual(unknown.body);
    const byAdmin = await t.http().post('/v1/enrollments').set('Authorization', `Bearer ${admin}`).send(base(hidden));
    expect(byAdmin.status).toBe(201);
  });
});
