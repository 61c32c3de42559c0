import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleBrowser, consoleSignIn, newStaff } from '../support/console.js';
import { ADMIN, startTestApp, type TestApp } from '../support/test-app.js';

interface Seeded {
  id: string;
  at: string;
}

const idsOn = (html: string) => [...html.matchAll(/<tr data-audit-id="([^"]+)">/g)].map((m) => m[1]);
const hrefOf = (html: string, rel: 'next' | 'prev') =>
  new RegExp(`<a href="([^"]+)" rel="${rel}">`).exec(html)?.[1]?.replaceAll('&amp;', '&');
/** Newest first, ties by id: the order the page promises (PostgreSQL compares uuids as their hex text compares). */
const newestFirst = (rows: Seeded[]) =>
  [...rows].sort((a, b) => Date.parse(b.at) - Date.parse(a.at) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).map((r) => r.id);

describe('#14.2 console: the audit-log viewer', () => {
  let t: TestApp;
  let admin: ConsoleBrowser;
  let adminId: string;
  let specialist: { email: string; password: string; id: string };
  const alpha: Seeded[] = [];
  const beta: Seeded[] = [];
  let markupId: string;

  async function seed(action: string, actorId: string, role: string, at: string, details: unknown = null): Promise<Seeded> {
    const id = randomUUID();
    await t.db.query(
      `INSERT INTO audit_log (id, at, actor_staff_id, actor_role, action, target_type, target_id, client_address, details)
       VALUES ($1, $2, $3, $4, $5, 'registration', $6, '203.0.113.7', $7)`,
      [id, at, actorId, role, action, randomUUID(), details === null ? null : JSON.stringify(details)],
    );
    return { id, at };
  }

  beforeAll(async () => {
    t = await startTestApp({ env: { LOGIN_RATE_LIMIT_PER_MINUTE: '1000' } });
    admin = await consoleSignIn(t, ADMIN.email, ADMIN.password);
    adminId = (await t.db.query(`SELECT id FROM staff WHERE email = $1`, [ADMIN.email])).rows[0].id as string;
    const made = await newStaff(t, 'specialist');
    specialist = { ...made, id: (await t.db.query(`SELECT id FROM staff WHERE email = $1`, [made.email])).rows[0].id as string };
    // Three entries share each instant, so a page boundary falls inside a tie (the 50th and 51st entries).
    for (let i = 0; i < 120; i++) {
      const at = new Date(Date.parse('2026-03-02T12:00:00Z') + Math.floor(i / 3) * 60_000).toISOString();
      alpha.push(await seed('seed.alpha', adminId, 'admin', at, { n: i }));
    }
    // Each side of the console's midnights (America/Chicago, UTC-6 in February and early March).
    for (const at of ['2026-02-28T05:59:59.999Z', '2026-02-28T06:00:00Z', '2026-03-01T05:59:59.999Z', '2026-03-01T06:00:00Z']) {
      beta.push(await seed('seed.beta', specialist.id, 'specialist', at));
    }
    markupId = (
      await seed('seed.markup', adminId, 'admin', '2026-01-15T12:00:00Z', {
        note: '<script>alert(1)</script>',
        nested: { html: '<img src=x onerror=alert(2)>' },
      })
    ).id;
  });
  afterAll(() => t.close());

  it('#14.2 filtered by action, newest first in pages of 50 by keyset: the exact entries, a tie across a boundary lost nowhere, and back', async () => {
    const expected = newestFirst(alpha);
    const first = await admin.get('/console/audit?action=seed.alpha');
    expect(first.status).toBe(200);
    expect(idsOn(first.text)).toEqual(expected.slice(0, 50));
    expect(hrefOf(first.text, 'prev')).toBeUndefined();
    const secondHref = hrefOf(first.text, 'next')!;
    expect(secondHref).toBe(`/console/audit?action=seed.alpha&older=${expected[49]}`);

    const second = await admin.get(secondHref);
    expect(idsOn(second.text)).toEqual(expected.slice(50, 100));
    const third = await admin.get(hrefOf(second.text, 'next')!);
    expect(idsOn(third.text)).toEqual(expected.slice(100, 120));
    expect(hrefOf(third.text, 'next')).toBeUndefined();

    const backToSecond = await admin.get(hrefOf(third.text, 'prev')!);
    expect(idsOn(backToSecond.text)).toEqual(expected.slice(50, 100));
    const backToFirst = await admin.get(hrefOf(backToSecond.text, 'prev')!);
    expect(idsOn(backToFirst.text)).toEqual(expected.slice(0, 50));
    expect(hrefOf(backToFirst.text, 'prev')).toBeUndefined();
  });

  it('#14.2 each entry shows when, the actor’s email and role, the action, the target, the client address and the details', async () => {
    const page = await admin.get('/console/audit?action=seed.beta');
    const row = new RegExp(`<tr data-audit-id="${beta[3].id}">[\\s\\S]*?</tr>`).exec(page.text)![0];
    expect(row).toContain('<time datetime="2026-03-01T06:00:00.000Z">');
    expect(row).toContain(`${specialist.email} (victim assistance specialist)`);
    expect(row).toContain('<code>seed.beta</code>');
    expect(row).toMatch(/registration <code>[0-9a-f-]{36}<\/code>/);
    expect(row).toContain('203.0.113.7');
    const alphaRow = await admin.get('/console/audit?action=seed.alpha');
    expect(alphaRow.text).toMatch(/<dt>n<\/dt><dd>119<\/dd>/);
  });

  it('#14.2 filtered by actor email (any case): only that staff member’s entries; an email nobody has matches nothing', async () => {
    const page = await admin.get(`/console/audit?actor=${encodeURIComponent(specialist.email.toUpperCase())}`);
    expect(page.status).toBe(200);
    expect(idsOn(page.text)).toEqual(newestFirst(beta));
    const nobody = await admin.get('/console/audit?actor=nobody%40test.vigil');
    expect(nobody.status).toBe(200);
    expect(idsOn(nobody.text)).toEqual([]);
    expect(nobody.text).toContain('No entries match.');
  });

  it('#14.2 filtered by dates: whole days in the console’s time zone, both ends included', async () => {
    const day = await admin.get('/console/audit?action=seed.beta&from=2026-02-28&to=2026-02-28');
    expect(idsOn(day.text)).toEqual([beta[2].id, beta[1].id]);
    const from = await admin.get('/console/audit?action=seed.beta&from=2026-03-01');
    expect(idsOn(from.text)).toEqual([beta[3].id]);
    const to = await admin.get('/console/audit?action=seed.beta&to=2026-02-27');
    expect(idsOn(to.text)).toEqual([beta[0].id]);
    const both = await admin.get(`/console/audit?actor=${encodeURIComponent(ADMIN.email)}&from=2026-01-15&to=2026-01-15`);
    expect(idsOn(both.text)).toEqual([markupId]);
  });

  it('#14.2 the action select lists the actions the log holds', async () => {
    const page = await admin.get('/console/audit');
    const options = [...page.text.matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]);
    expect(options).toEqual(expect.arrayContaining(['', 'seed.alpha', 'seed.beta', 'seed.markup', 'staff.create']));
    expect(options).not.toContain('source.create');
  });

  it('#14.2 details are shown as text: markup in them is escaped, never rendered', async () => {
    const page = await admin.get('/console/audit?action=seed.markup');
    expect(idsOn(page.text)).toEqual([markupId]);
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).not.toContain('<script>alert(1)');
    expect(page.text).not.toContain('<img src=x');
    expect(page.text).toContain('&lt;img src=x onerror=alert(2)&gt;');
  });

  it('#14.2 bad filter values answer a 422 page with the error at the field, and no entries', async () => {
    const cases: [string, string][] = [
      ['actor=not-an-email', 'actor'],
      [`actor=${'a'.repeat(250)}%40test.vigil`, 'actor'],
      ['actor=a%00b%40test.vigil', 'actor'],
      ['actor=a%40test.vigil&actor=b%40test.vigil', 'actor'],
      ['action=no.such.action', 'action'],
      ['action=seed.alpha&action=seed.beta', 'action'],
      ['action=seed.alpha%00', 'action'],
      ['from=2026-02-30', 'from'],
      ['from=2026-3-1', 'from'],
      ['from=yesterday', 'from'],
      [`from=${'9'.repeat(5000)}`, 'from'],
      ['from=2026-03-02&to=2026-03-01', 'to'],
      ['to=2026-13-01', 'to'],
      ['from=2026-03-01&from=2026-03-02', 'from'],
    ];
    for (const [query, field] of cases) {
      const res = await admin.get(`/console/audit?${query}`);
      expect(res.status, query).toBe(422);
      expect(res.headers['content-type'], query).toMatch(/^text\/html/);
      expect(res.text, query).toMatch(new RegExp(`id="field-${field}"[^>]*aria-invalid="true"`));
      expect(res.text, query).toMatch(/<a href="#field-/);
      expect(idsOn(res.text), query).toEqual([]);
    }
    for (const query of ['older=not-a-uuid', `older=${alpha[0].id}&newer=${alpha[1].id}`, 'newer=1']) {
      const res = await admin.get(`/console/audit?${query}`);
      expect(res.status, query).toBe(422);
      expect(res.text, query).toContain('That page link is not valid.');
    }
  });

  it('#14.2 reading the log is itself recorded, without the email searched for', async () => {
    await admin.get(`/console/audit?actor=${encodeURIComponent(specialist.email)}&action=seed.beta`);
    const { rows } = await t.db.query(
      `SELECT actor_staff_id, details FROM audit_log WHERE action = 'audit.read' AND details->>'action' = 'seed.beta' AND (details->>'byActor')::boolean`,
    );
    expect(rows).toEqual([
      { actor_staff_id: adminId, details: { byActor: true, action: 'seed.beta', from: null, to: null, entries: beta.length } },
    ]);
    const leaked = await t.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE details::text ILIKE '%' || $1 || '%'`, [
      specialist.email,
    ]);
    expect(leaked.rows[0].n).toBe(0);
  });

  it('#14.2 a specialist gets a 403 page', async () => {
    const browser = await consoleSignIn(t, specialist.email, specialist.password);
    const res = await browser.get('/console/audit');
    expect(res.status).toBe(403);
    expect(res.text).toContain('This page is for administrators.');
    expect(idsOn(res.text)).toEqual([]);
  });
});
