import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, postEvents } from '../support/sources.js';
import { type ConsoleBrowser, consoleSignIn, csrfOn, newStaff } from '../support/console.js';
import { ADMIN, startTestApp, type TestApp } from '../support/test-app.js';

describe('#14 console: sources and keys', () => {
  let t: TestApp;
  let admin: ConsoleBrowser;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await consoleSignIn(t, ADMIN.email, ADMIN.password);
  });
  afterAll(() => t.close());

  async function createFromForm(fields: Record<string, unknown>) {
    const page = await admin.get('/console/sources');
    return admin
      .post('/console/sources')
      .type('form')
      .send({ _csrf: csrfOn(page), ...fields });
  }

  it('#14 a source with mistakes is shown again with each mistake at its field and nothing created', async () => {
    const res = await createFromForm({ name: '', facilityCodes: 'OK-1 bad/code', expectedIntervalMinutes: '1.5', signingRequired: 'on' });
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/id="field-name"[^>]*aria-invalid="true"/);
    expect(res.text).toMatch(/id="field-facilityCodes"[^>]*value="OK-1 bad\/code"[^>]*aria-invalid="true"/);
    expect(res.text).toMatch(/id="field-expectedIntervalMinutes"[^>]*aria-invalid="true"/);
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM source`);
    expect(rows[0].n).toBe(0);
  });

  it('#14 a field sent twice is a mistake at its field, never read as blank: no source allowed every facility or spared signing', async () => {
    const cases: [string, Record<string, unknown>][] = [
      ['facilityCodes', { facilityCodes: ['HCJ-1', 'HCJ-2'] }],
      ['signingRequired', { signingRequired: ['on', 'on'] }],
      ['expectedIntervalMinutes', { expectedIntervalMinutes: ['60', '5'] }],
    ];
    for (const [field, change] of cases) {
      const res = await createFromForm({
        name: 'Twice County JMS',
        facilityCodes: 'HCJ-1',
        expectedIntervalMinutes: '60',
        signingRequired: 'on',
        ...change,
      });
      expect(res.status, field).toBe(422);
      expect(res.text, field).toContain(`href="#field-${field}"`);
    }
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM source WHERE name = 'Twice County JMS'`);
    expect(rows[0].n).toBe(0);
  });

  it('#14 a new source’s key and secret are shown once and work; a second key can be added and the first revoked', async () => {
    const created = await createFromForm({ name: 'Harris County Jail JMS', facilityCodes: 'HCJ-1, HCJ-2', expectedIntervalMinutes: '30' });
    expect(created.status).toBe(200);
    const apiKey = /data-secret="apiKey">([^<]+)</.exec(created.text)![1];
    const signingSecret = /data-secret="signingSecret">([^<]+)</.exec(created.text)![1];
    expect(signingSecret).toMatch(/^whsec_/);
    const { rows } = await t.db.query(
      `SELECT id, facility_codes, expected_interval_seconds, signing_required FROM source WHERE name = $1`,
      ['Harris County Jail JMS'],
    );
    expect(rows[0]).toMatchObject({ facility_codes: ['HCJ-1', 'HCJ-2'], expected_interval_seconds: 1800, signing_required: false });
    const source = { sourceId: rows[0].id as string, apiKey, signingSecret };
    expect((await postEvents(t, source, event({ facility: { code: 'HCJ-1' } }))).status).toBe(202);

    const list = await admin.get('/console/sources');
    expect(list.text).not.toContain(apiKey);
    expect(list.text).not.toContain(signingSecret);

    const added = await admin
      .post(`/console/sources/${source.sourceId}/keys`)
      .type('form')
      .send({ _csrf: csrfOn(list) });
    const secondKey = /data-secret="apiKey">([^<]+)</.exec(added.text)![1];
    const keys = await t.db.query(`SELECT id FROM source_key WHERE source_id = $1 ORDER BY created_at`, [source.sourceId]);
    const revoked = await admin
      .post(`/console/sources/${source.sourceId}/keys/${keys.rows[0].id}/revoke`)
      .type('form')
      .send({ _csrf: csrfOn(list) });
    expect(revoked.status).toBe(303);
    expect((await postEvents(t, source, event({ facility: { code: 'HCJ-1' } }))).status).toBe(401);
    expect((await postEvents(t, { ...source, apiKey: secondKey }, event({ facility: { code: 'HCJ-1' } }))).status).toBe(202);

    const last = await admin
      .post(`/console/sources/${source.sourceId}/keys/${keys.rows[1].id}/revoke`)
      .type('form')
      .send({ _csrf: csrfOn(list) });
    expect(last.status).toBe(409);
    expect(last.text).toContain('only active key');
    expect((await postEvents(t, { ...source, apiKey: secondKey }, event({ facility: { code: 'HCJ-2' } }))).status).toBe(202);
    const audit = await t.db.query(`SELECT action FROM audit_log WHERE target_id = $1 ORDER BY at`, [source.sourceId]);
    expect(audit.rows.map((r) => r.action)).toEqual(expect.arrayContaining(['source.create', 'source.key.revoke']));
  });

  it('#14 a specialist cannot see or change sources (403 pages)', async () => {
    const staff = await newStaff(t, 'specialist');
    const specialist = await consoleSignIn(t, staff.email, staff.password);
    expect((await specialist.get('/console/sources')).status).toBe(403);
    const dashboard = await specialist.get('/console/');
    const tried = await specialist
      .post('/console/sources')
      .type('form')
      .send({ _csrf: csrfOn(dashboard), name: 'Sneaky' });
    expect(tried.status).toBe(403);
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM source WHERE name = 'Sneaky'`);
    expect(rows[0].n).toBe(0);
  });
});
