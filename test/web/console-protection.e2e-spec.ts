import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookPerson } from '../support/registrations.js';
import { createSource, type TestSource } from '../support/sources.js';
import { type ConsoleBrowser, consoleSignIn, csrfOn, newStaff } from '../support/console.js';
import { ADMIN, startTestApp, type TestApp } from '../support/test-app.js';

describe('#14 console: facility suppression and person protection, each with a reason and its history', () => {
  let t: TestApp;
  let source: TestSource;
  let admin: ConsoleBrowser;

  beforeAll(async () => {
    t = await startTestApp();
    source = await createSource(t);
    admin = await consoleSignIn(t, ADMIN.email, ADMIN.password);
  });
  afterAll(() => t.close());

  it('#14 suppressing a facility needs a reason, is kept in the history with who did it, and lifting it is recorded too', async () => {
    await bookPerson(t, source, 'A-720-000-001', { facility: { code: 'HCJ-1', name: 'Harris County Jail' } });
    const page = await admin.get('/console/facilities');
    expect(page.text).toContain('data-facility="HCJ-1"');
    const noReason = await admin
      .post('/console/facilities/HCJ-1/suppression')
      .type('form')
      .send({ _csrf: csrfOn(page), suppressed: 'true', reason: '' });
    expect(noReason.status).toBe(422);
    expect(noReason.text).toMatch(/id="field-reason-HCJ-1"[^>]*aria-invalid="true"/);
    expect((await t.db.query(`SELECT suppressed FROM facility WHERE code = 'HCJ-1'`)).rows[0].suppressed).toBe(false);

    const on = await admin
      .post('/console/facilities/HCJ-1/suppression')
      .type('form')
      .send({ _csrf: csrfOn(page), suppressed: 'true', reason: 'JMS maintenance window 02:00-04:00' });
    expect(on.status).toBe(303);
    const off = await admin
      .post('/console/facilities/HCJ-1/suppression')
      .type('form')
      .send({ _csrf: csrfOn(page), suppressed: 'false', reason: 'Maintenance over' });
    expect(off.status).toBe(303);
    const after = await admin.get('/console/facilities');
    const history = after.text.slice(after.text.indexOf('<table'));
    expect(history.indexOf('Maintenance over')).toBeLessThan(history.indexOf('JMS maintenance window'));
    expect(history).toContain(ADMIN.email);
    // The API records its changes in the same history.
    const api = await t
      .http()
      .put('/v1/admin/facilities/HCJ-1/suppression')
      .set('Authorization', `Bearer ${await t.adminToken()}`)
      .send({ suppressed: true, reason: 'Through the API' });
    expect(api.status).toBe(200);
    const audit = await t.db.query(`SELECT details->>'reason' AS reason FROM audit_log WHERE action = 'facility.suppression' ORDER BY at`);
    expect(audit.rows.map((r) => r.reason)).toEqual(['JMS maintenance window 02:00-04:00', 'Maintenance over', 'Through the API']);
  });

  it('#14 an admin finds a person by identifier (protected ones too), protects them with a reason, and search hides them', async () => {
    const personId = await bookPerson(t, source, 'A-720-000-002', { firstName: 'Hidden', lastName: 'Person' });
    const search = () => t.http().get('/v1/people').query({ identifierSystem: 'A_NUMBER', identifier: 'A-720-000-002' });
    expect((await search()).body.people).toHaveLength(1);
    const found = await admin.get('/console/people').query({ identifierSystem: 'A_NUMBER', identifier: 'a720000002' });
    expect(found.status).toBe(200);
    expect(found.text).toContain(`data-person-id="${personId}"`);
    const protect = await admin
      .post(`/console/people/${personId}/protection`)
      .type('form')
      .send({ _csrf: csrfOn(found), protected: 'true', reason: 'Court order 2026-CV-0142' });
    expect(protect.status).toBe(303);
    expect((await search()).body.people).toHaveLength(0);
    const again = await admin.get('/console/people').query({ identifierSystem: 'A_NUMBER', identifier: 'A-720-000-002' });
    expect(again.text).toContain('PROTECTED');
    expect(again.text).toContain('Court order 2026-CV-0142');
    const noReason = await admin
      .post(`/console/people/${personId}/protection`)
      .type('form')
      .send({ _csrf: csrfOn(again), protected: 'false', reason: ' ' });
    expect(noReason.status).toBe(422);
    expect((await search()).body.people).toHaveLength(0);
    const lookups = await t.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'person.lookup'`);
    expect(lookups.rows[0].n).toBeGreaterThanOrEqual(2);
  });

  it('#14 a protection or suppression form without a clear true or false (missing, an array, another word) is a 422 and changes nothing', async () => {
    const personId = await bookPerson(t, source, 'A-720-000-003', { facility: { code: 'HCJ-3', name: 'Harris County Jail 3' } });
    const page = await admin.get('/console/people').query({ identifierSystem: 'A_NUMBER', identifier: 'A-720-000-003' });
    const protect = await admin
      .post(`/console/people/${personId}/protection`)
      .type('form')
      .send({ _csrf: csrfOn(page), protected: 'true', reason: 'Court order 2026-CV-0143' });
    expect(protect.status).toBe(303);
    const facilities = await admin.get('/console/facilities');
    const suppress = await admin
      .post('/console/facilities/HCJ-3/suppression')
      .type('form')
      .send({ _csrf: csrfOn(facilities), suppressed: 'true', reason: 'JMS maintenance' });
    expect(suppress.status).toBe(303);
    const audits = async () =>
      (await t.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE action IN ('person.protection', 'facility.suppression')`)).rows[0]
        .n as number;
    const before = await audits();

    for (const value of [undefined, ['true', 'false'], 'yes', 'TRUE ']) {
      const field = value === undefined ? {} : { protected: value };
      const person = await admin
        .post(`/console/people/${personId}/protection`)
        .type('form')
        .send({ _csrf: csrfOn(page), reason: 'Crafted', ...field });
      expect(person.status, `protected=${JSON.stringify(value)}`).toBe(422);
      const facility = await admin
        .post('/console/facilities/HCJ-3/suppression')
        .type('form')
        .send({ _csrf: csrfOn(facilities), reason: 'Crafted', ...(value === undefined ? {} : { suppressed: value }) });
      expect(facility.status, `suppressed=${JSON.stringify(value)}`).toBe(422);
    }
    expect((await t.db.query(`SELECT protected FROM person WHERE id = $1`, [personId])).rows[0].protected).toBe(true);
    expect((await t.db.query(`SELECT suppressed FROM facility WHERE code = 'HCJ-3'`)).rows[0].suppressed).toBe(true);
    expect(await audits()).toBe(before);
  });

  it('#14 a specialist gets 403 pages here and changes nothing', async () => {
    const staff = await newStaff(t, 'specialist');
    const specialist = await consoleSignIn(t, staff.email, staff.password);
    expect((await specialist.get('/console/facilities')).status).toBe(403);
    expect((await specialist.get('/console/people?identifier=x')).status).toBe(403);
    const dashboard = await specialist.get('/console/');
    const tried = await specialist
      .post('/console/facilities/HCJ-1/suppression')
      .type('form')
      .send({ _csrf: csrfOn(dashboard), suppressed: 'false', reason: 'x' });
    expect(tried.status).toBe(403);
  });
});
