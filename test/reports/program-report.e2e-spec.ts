import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { StaffAlertsService } from '../../src/delivery/staff-alerts.service.js';
import { OptOutService } from '../../src/registrations/opt-out.service.js';
import { FeedHealthService } from '../../src/sources/feed-health.service.js';
import { ManualClock } from '../support/manual-clock.js';
import { bookPerson, register } from '../support/registrations.js';
import { enrol } from '../support/roster-people.js';
import { createSource, event, personWith, postEvents, putRoster, type TestSource } from '../support/sources.js';
import { consoleSignIn as signIn } from '../support/console.js';
import { ADMIN, startTestApp, type TestApp } from '../support/test-app.js';

const DAY_MS = 86_400_000;
const day = (date: Date) => date.toISOString().slice(0, 10);

/** Parses the report's CSV (RFC 4180 quoting) into rows of fields. */
function parseCsv(text: string): string[][] {
  return (
    text
      .trimEnd()
      .split('\r\n')
      // Each field follows the line's start or a comma, so an empty last field (a value not measured) is a field too.
      .map((line) => [...line.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)].map((m) => m[1].replace(/^"|"$/g, '').replace(/""/g, '"')))
  );
}

describe('#14 program reports: counts and rates for a period, small cells withheld, nothing that identifies anyone', () => {
  const clock = new ManualClock(new Date());
  let t: TestApp;
  let admin: string;
  let specialist: string;
  let specialistEmail: string;
  let specialistPassword: string;
  let county: TestSource;
  let boundary: TestSource;
  let quiet: TestSource;
  const today = new Date(Date.UTC(clock.now().getUTCFullYear(), clock.now().getUTCMonth(), clock.now().getUTCDate()));
  const D = day(today);
  const yesterday = day(new Date(today.getTime() - DAY_MS));
  // The day after the clock's own date when asked: the file's clock moves on by hours, and started
  // late in the day it crosses midnight partway, so later data lands on the next day.
  const tomorrow = () =>
    day(new Date(Date.UTC(clock.now().getUTCFullYear(), clock.now().getUTCMonth(), clock.now().getUTCDate()) + DAY_MS));
  const secrets: string[] = [];
  const enrolledRegistrations: string[] = [];
  const get = (query: string, token = admin) => t.http().get(`/v1/admin/reports${query}`).set('Authorization', `Bearer ${token}`);

  beforeAll(async () => {
    t = await startTestApp({ clock });
    admin = await t.adminToken();
    specialistEmail = `reports-specialist-${Date.now()}@test.vigil`;
    specialistPassword = 'specialist password for reports';
    const created = await t
      .http()
      .post('/v1/admin/staff')
      .set('Authorization', `Bearer ${admin}`)
      .send({ email: specialistEmail, password: specialistPassword, role: 'specialist' });
    expect(created.status).toBe(201);
    specialist = await t.loginAs(specialistEmail, specialistPassword);
    county = await createSource(t, { name: 'County Jail Feed' });
    boundary = await createSource(t, { name: 'Boundary Feed' });

    // Twelve victims enrolled by a specialist (English, email), three who signed up themselves (Spanish, SMS).
    const followed: string[] = [];
    for (let i = 0; i < 15; i++) {
      const identifier = `RPT-${i}-${Date.now()}`;
      const personId = await bookPerson(t, county, identifier, { firstName: `Zelda${i}`, lastName: 'Quixote' });
      secrets.push(identifier, personId);
      followed.push(personId);
    }
    const registrations: string[] = [];
    for (let i = 0; i < 12; i++) {
      const email = `victim${i}@report-victims.test`;
      secrets.push(email);
      registrations.push(await enrol(t, specialist, followed[i], email));
      enrolledRegistrations.push(registrations[i]);
    }
    for (let i = 12; i < 15; i++) {
      const phone = `+1202555${String(100 + i).padStart(4, '0')}`;
      secrets.push(phone, phone.slice(2));
      const res = await register(t, { personId: followed[i], language: 'es', contacts: [{ channel: 'sms', address: phone }] });
      expect(res.status, res.text).toBe(201);
      registrations.push(res.body.registrationId as string, res.body.manageToken as string);
    }
    secrets.push(...registrations);

    // The twelve enrolled victims' people are released: twelve urgent alerts, first attempted 30 s after planning.
    const releases = await postEvents(t, county, {
      events: followed
        .slice(0, 12)
        .map((personId, i) =>
          event({ type: 'RELEASED', person: personWith(secrets[i * 2], { firstName: `Zelda${i}`, lastName: 'Quixote' }) }),
        ),
    });
    expect(releases.status, releases.text).toBe(202);
    clock.advance(30_000);
    await t.app.get(DispatcherService).drain();

    // Eleven of them unsubscribe from email afterwards.
    const { rows: contacts } = await t.db.query(`SELECT id FROM contact WHERE registration_id = ANY($1::uuid[]) ORDER BY id LIMIT 11`, [
      registrations.slice(0, 12),
    ]);
    for (const { id } of contacts) {
      const token = t.app.get(OptOutService).unsubscribeToken(id as string);
      expect(
        (await t.http().post(`/v1/unsubscribe/${id}?token=${token}`).type('form').send({ 'List-Unsubscribe': 'One-Click' })).status,
      ).toBe(200);
      secrets.push(id as string);
    }

    // Eleven bookings the last millisecond before today and eleven at its first: the boundary between two periods.
    const at = (instant: string, n: number, tag: string) =>
      Array.from({ length: n }, (_, i) => event({ occurredAt: instant, person: personWith(`BND-${tag}-${i}-${Date.now()}`) }));
    const edge = await postEvents(t, boundary, {
      events: [...at(`${yesterday}T23:59:59.999Z`, 11, 'before'), ...at(`${D}T00:00:00.000Z`, 11, 'at')],
    });
    expect(edge.status, edge.text).toBe(202);

    // One held roster change, approved.
    const roster = await createSource(t, { name: 'Roster Feed' });
    const people = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => personWith(`ROS-${from + i}-${D}`));
    await putRoster(t, roster, 'RPT-1', { asOf: new Date(clock.now().getTime() - 120_000).toISOString(), people: people(0, 60) });
    const held = await putRoster(t, roster, 'RPT-1', {
      asOf: new Date(clock.now().getTime() - 60_000).toISOString(),
      people: people(40, 60),
    });
    expect(held.body.held).toBe(true);
    const approved = await t
      .http()
      .post(`/v1/admin/roster-snapshots/${held.body.snapshotId}/approve`)
      .set('Authorization', `Bearer ${admin}`);
    expect(approved.status, approved.text).toBeLessThan(300);

    // A source that goes silent past its interval, and recovers ten minutes after it was marked stale.
    quiet = await createSource(t, { name: 'Quiet Feed', expectedIntervalSeconds: 60 });
    clock.advance(120_000);
    await t.app.get(FeedHealthService).check();
    clock.advance(10 * 60_000);
    expect((await postEvents(t, quiet, event())).status).toBe(202);
    await t.app.get(FeedHealthService).check();
  });
  afterAll(() => t.close());

  it('#14 reports exact counts from 11, "<11" for 1 to 10, and 0 as 0', async () => {
    const res = await get(`?from=${D}&to=${tomorrow()}`);
    expect(res.status, res.text).toBe(200);
    const r = res.body;
    expect(r.period).toEqual({ from: D, to: tomorrow(), timeZone: 'UTC' });
    expect(r.suppression).toEqual({ threshold: 11, marker: '<11', complementMarker: 'withheld' });
    expect(r.registrations.enrolled).toBe(12);
    expect(r.registrations.self).toBe('<11');
    expect(r.registrations.stopped).toBe(0);
    expect(r.registrations.byLanguage).toEqual([
      { language: 'en', self: 0, enrolled: 12 },
      { language: 'es', self: '<11', enrolled: 0 },
    ]);
    expect(r.registrations.byChannel).toEqual([
      { channel: 'email', self: 0, enrolled: 12 },
      { channel: 'sms', self: '<11', enrolled: 0 },
    ]);
    expect(r.personsFollowed).toBe(15);
    const events = Object.fromEntries(
      r.events.map((e: { source: string; type: string; count: unknown }) => [`${e.source}/${e.type}`, e.count]),
    );
    expect(events['County Jail Feed/BOOKED']).toBe(15);
    expect(events['County Jail Feed/RELEASED']).toBe(12);
    expect(events['Boundary Feed/BOOKED']).toBe(11);
    expect(events['Quiet Feed/BOOKED']).toBe('<11');
    expect(r.alerts.total).toBe(12);
    expect(r.alerts.urgent).toBe(12);
    expect(r.alerts.corrections).toBe(0);
    // Independently, through the ledger API: each alert's status as the victim's ledger rolls it up.
    const statuses: Record<string, number> = {};
    for (const id of enrolledRegistrations) {
      const ledger = await t.http().get(`/v1/registrations/${id}/notifications`).set('Authorization', `Bearer ${specialist}`);
      for (const n of ledger.body.notifications as { status: string }[]) statuses[n.status] = (statuses[n.status] ?? 0) + 1;
    }
    expect(Object.values(statuses).reduce((a, b) => a + b, 0)).toBe(12);
    expect(r.alerts.byStatus).toEqual(
      Object.entries(statuses)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([status, n]) => ({ status, count: n >= 11 ? n : '<11' })),
    );

    // Independently: what the ledger holds for these alerts.
    const { rows: ledger } = await t.db.query(
      `SELECT d.channel, d.status, count(*)::int AS n FROM delivery d JOIN notification n ON n.id = d.notification_id
       WHERE d.purpose = 'alert' GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    expect(ledger.reduce((sum: number, row: { n: number }) => sum + row.n, 0)).toBe(12);
    expect(r.deliveries).toEqual(
      ledger.map((row: { channel: string; status: string; n: number }) => ({
        channel: row.channel,
        status: row.status,
        count: row.n >= 11 ? row.n : '<11',
      })),
    );
    const { rows: reached } = await t.db.query(
      `SELECT count(DISTINCT n.id)::int AS n FROM notification n JOIN delivery d ON d.notification_id = n.id
       WHERE n.urgent AND d.status IN ('delivered', 'confirmed')`,
    );
    expect(r.urgentAlerts.count).toBe(12);
    // #14.2 of 12 sent, any number reached but none or all rests on a small count: withheld, whatever its size.
    expect(r.urgentAlerts.reached).toBe(reached[0].n === 0 || reached[0].n === 12 ? reached[0].n : 'withheld');
    expect(r.urgentAlerts.confirmed).toBe(0);
    // 0 of 12 confirmed: the rate is shown; 12 of 12 or 0 of 12 reached, likewise, any other split would be withheld.
    expect(r.urgentAlerts.pinConfirmationRate).toBe(0);
    expect(r.eventToFirstAttempt).toEqual({ alerts: 12, medianSeconds: 30, p95Seconds: 30 });
    expect(r.escalations).toEqual({ count: 0, resolved: 0, medianMinutesToResolve: null, p95MinutesToResolve: null });
    expect(r.feedOutages).toEqual([{ source: 'Quiet Feed', outages: '<11', staleMinutes: 10 }]);
    expect(r.heldRosters).toEqual({ held: '<11', approved: '<11', discarded: 0 });
    expect(r.optOuts).toEqual({ stops: 0, unsubscribes: 11 });
  });

  it('#14 a period is [from, to): an event at midnight belongs to the day it starts', async () => {
    const before = (await get(`?from=${yesterday}&to=${D}`)).body;
    expect(before.events).toEqual([{ source: 'Boundary Feed', type: 'BOOKED', count: 11 }]);
    expect(before.registrations).toMatchObject({ self: 0, enrolled: 0, byLanguage: [], byChannel: [] });
    expect(before.alerts.total).toBe(0);
    expect(before.urgentAlerts).toEqual({ count: 0, reached: 0, confirmed: 0, deliveryRate: null, pinConfirmationRate: null });
    expect(before.eventToFirstAttempt).toEqual({ alerts: 0, medianSeconds: null, p95Seconds: null });
    expect(before.optOuts.unsubscribes).toBe(0);
    const both = (await get(`?from=${yesterday}&to=${tomorrow()}`)).body;
    expect(both.events.find((e: { source: string }) => e.source === 'Boundary Feed').count).toBe(22);
  });

  it('#14 the CSV has a header row and one four-field row per figure, the same figures as the JSON', async () => {
    const res = await get(`?from=${D}&to=${tomorrow()}&format=csv`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const rows = parseCsv(res.text);
    expect(rows[0]).toEqual(['section', 'category', 'subcategory', 'value']);
    for (const row of rows) expect(row).toHaveLength(4);
    const value = (section: string, category: string, subcategory = '') =>
      rows.find((row) => row[0] === section && row[1] === category && row[2] === subcategory)?.[3];
    expect(value('registrations', 'enrolled')).toBe('12');
    expect(value('registrations', 'self')).toBe('<11');
    expect(value('registrations by language', 'es', 'self')).toBe('<11');
    expect(value('events', 'County Jail Feed', 'RELEASED')).toBe('12');
    expect(value('event to first attempt', 'median seconds')).toBe('30');
    expect(value('feed outages', 'Quiet Feed', 'stale minutes')).toBe('10');
    expect(value('opt-outs', 'unsubscribes')).toBe('11');
  });

  it('#14 the report page draws each chart as SVG with a title, the numbers in tables, and links to CSV and JSON', async () => {
    const agent = await signIn(t, ADMIN.email, ADMIN.password);
    const page = await agent.get(`/console/reports?from=${D}&to=${tomorrow()}`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const svgs = page.text.match(/<svg[^>]*role="img"[^>]*aria-labelledby="([^"]+)"/g) ?? [];
    expect(svgs.length).toBeGreaterThanOrEqual(4);
    for (const svg of svgs) {
      const id = /aria-labelledby="([^"]+)"/.exec(svg)![1];
      expect(page.text).toContain(`<title id="${id}">`);
    }
    expect(page.text).toMatch(/<th scope="row">County Jail Feed<\/th><td>RELEASED<\/td><td>12<\/td>/);
    expect(page.text).toMatch(/<th scope="row">Spanish<\/th><td>&lt;11<\/td><td>0<\/td>/);
    expect(page.text).toContain(`href="/console/reports?from=${D}&amp;to=${tomorrow()}&amp;format=csv"`);
    expect(page.text).toContain(`href="/console/reports?from=${D}&amp;to=${tomorrow()}&amp;format=json"`);
    const es = await agent.get(`/console/reports?from=${D}&to=${tomorrow()}&lang=es`);
    expect(es.text).toContain('Informe del programa');

    const bad = await agent.get(`/console/reports?from=${tomorrow()}&to=${D}`);
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('aria-invalid="true"');
    expect(bad.text).not.toContain('<svg');
  });

  it('#14 the report page’s CSV and JSON links download the report in the signed-in admin’s browser, as the API answers it', async () => {
    const agent = await signIn(t, ADMIN.email, ADMIN.password);
    const page = await agent.get(`/console/reports?from=${D}&to=${tomorrow()}`);
    const href = (name: string) => {
      const link = new RegExp(`<a href="([^"]+)"[^>]*>${name}</a>`).exec(page.text);
      expect(link, name).not.toBeNull();
      return link![1].replace(/&amp;/g, '&');
    };
    const csv = await agent.get(href('CSV \\(spreadsheet\\)'));
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toBe(`attachment; filename="vigil-report-${D}-${tomorrow()}.csv"`);
    expect(csv.headers['cache-control']).toBe('no-store');
    expect(csv.text).toBe((await get(`?from=${D}&to=${tomorrow()}&format=csv`)).text);
    const json = await agent.get(href('JSON'));
    expect(json.status).toBe(200);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(json.body).toEqual((await get(`?from=${D}&to=${tomorrow()}`)).body);
    // The download is the console's: a specialist's browser gets the 403 page, a bad period the 422 one.
    const specialistAgent = await signIn(t, specialistEmail, specialistPassword);
    expect((await specialistAgent.get(href('JSON'))).status).toBe(403);
    const bad = await agent.get(href('JSON').replace(`to=${tomorrow()}`, `to=${D}`));
    expect(bad.status).toBe(422);
    expect(bad.headers['content-type']).toMatch(/^text\/html/);
    // Dates sent twice are a bad period, not a file of the last quarter.
    const twice = await agent.get(`/console/reports?from=${D}&from=${D}&to=${tomorrow()}&to=${tomorrow()}&format=csv`);
    expect(twice.status).toBe(422);
    expect((await agent.get(`/console/reports?from=${D}&to=${tomorrow()}&format=xlsx`)).status).toBe(422);
  });

  it('#14 no name, address or identifier appears in any form of the report', async () => {
    const agent = await signIn(t, ADMIN.email, ADMIN.password);
    const outputs = [
      (await get(`?from=${yesterday}&to=${tomorrow()}`)).text,
      (await get(`?from=${yesterday}&to=${tomorrow()}&format=csv`)).text,
      (await agent.get(`/console/reports?from=${yesterday}&to=${tomorrow()}`)).text,
    ];
    expect(secrets.length).toBeGreaterThan(40);
    for (const output of outputs) {
      for (const secret of [...secrets, 'Zelda', 'Quixote', 'report-victims', 'RPT-', 'BND-', 'ROS-']) expect(output).not.toContain(secret);
      expect(output).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
    }
  });

  it('#14 a specialist is refused the report (API 403, page 403), and every read is audited', async () => {
    expect((await get(`?from=${D}&to=${tomorrow()}`, specialist)).status).toBe(403);
    const agent = await signIn(t, specialistEmail, specialistPassword);
    const page = await agent.get(`/console/reports?from=${D}&to=${tomorrow()}`);
    expect(page.status).toBe(403);
    expect(page.text).not.toContain('<svg');
    expect((await t.http().get(`/v1/admin/reports?from=${D}&to=${tomorrow()}`)).status).toBe(401);
    const { rows } = await t.db.query(`SELECT details FROM audit_log WHERE action = 'report.read' AND actor_role = 'admin'`);
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows.map((row: { details: { format: string } }) => row.details.format)).toEqual(expect.arrayContaining(['json', 'csv', 'html']));
  });

  it('#14 a bad period is 422 with the field named: order, length, calendar, half a period, format', async () => {
    const cases: [string, string][] = [
      [`?from=${D}&to=${D}`, 'to'],
      [`?from=${tomorrow()}&to=${D}`, 'to'],
      ['?from=2024-01-01&to=2026-01-02', 'to'],
      ['?from=2026-02-30&to=2026-04-01', 'from'],
      ['?from=2026-01-01', 'to'],
      ['?to=2026-01-01', 'from'],
      ['?from=yesterday&to=2026-01-01', 'from'],
      [`?from=${D}&to=${tomorrow()}&format=xml`, 'format'],
      [`?from=${D}&to=${tomorrow()}&name=x`, 'name'],
    ];
    for (const [query, path] of cases) {
      const res = await get(query);
      expect(res.status, query).toBe(422);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(
        res.body.errors.map((e: { path: string }) => e.path),
        query,
      ).toContain(path);
    }
    // Exactly two years and a leap day is allowed.
    expect((await get('?from=2024-01-01&to=2026-01-01')).status).toBe(200);
  });

  it('#14 without a period the report covers the last full calendar quarter (UTC)', async () => {
    const now = clock.now();
    try {
      clock.set(new Date('2026-02-15T12:00:00Z'));
      expect((await get('')).body.period).toEqual({ from: '2025-10-01', to: '2026-01-01', timeZone: 'UTC' });
      clock.set(new Date('2026-10-01T00:00:00Z'));
      expect((await get('')).body.period).toEqual({ from: '2026-07-01', to: '2026-10-01', timeZone: 'UTC' });
    } finally {
      clock.set(now);
    }
  });

  it('#14 the report is in the OpenAPI document with its response schema', async () => {
    const docs = await t.http().get('/docs-json');
    const op = docs.body.paths['/v1/admin/reports'].get;
    expect(op.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['format', 'from', 'to']);
    expect(op.responses['200'].content['application/json'].schema.properties.registrations).toBeDefined();
    expect(op.responses['200'].content['text/csv']).toBeDefined();
  });
  it('#14 escalations: raised, resolved by staff, and minutes to resolution (median, p95), withheld below 11', async () => {
    // Computed here from what the API says of each escalation, not from the report's SQL.
    const percentile = (sorted: number[], p: number) => {
      const at = p * (sorted.length - 1);
      const low = Math.floor(at);
      return sorted[low] + (sorted[Math.min(low + 1, sorted.length - 1)] - sorted[low]) * (at - low);
    };
    const period = `?from=${yesterday}&to=${day(new Date(today.getTime() + 2 * DAY_MS))}`;
    clock.advance(31 * 60_000);
    expect(await t.app.get(StaffAlertsService).escalate()).toBe(12);
    const open = await t.http().get('/v1/escalations').set('Authorization', `Bearer ${specialist}`);
    expect(open.body.escalations).toHaveLength(12);

    // Ten resolved first: a statistic over ten is withheld, and so is the count.
    const minutes: number[] = [];
    const resolveNext = async (i: number) => {
      clock.advance((i + 1) * 60_000);
      const res = await t
        .http()
        .post(`/v1/escalations/${open.body.escalations[i].escalationId}/resolve`)
        .set('Authorization', `Bearer ${specialist}`)
        .send({ note: `Reached victim ${i} by phone.` });
      expect(res.status, res.text).toBe(200);
      minutes.push((Date.parse(res.body.resolvedAt) - Date.parse(res.body.escalatedAt)) / 60_000);
    };
    for (let i = 0; i < 10; i++) await resolveNext(i);
    expect((await get(period)).body.escalations).toEqual({
      count: 12,
      resolved: '<11',
      medianMinutesToResolve: '<11',
      p95MinutesToResolve: '<11',
    });

    await resolveNext(10);
    const sorted = [...minutes].sort((a, b) => a - b);
    const r = (await get(period)).body;
    expect(r.escalations).toEqual({
      count: 12,
      resolved: 11,
      medianMinutesToResolve: Math.round(percentile(sorted, 0.5) * 10) / 10,
      p95MinutesToResolve: Math.round(percentile(sorted, 0.95) * 10) / 10,
    });
    expect(r.escalations.medianMinutesToResolve).toBe(21);
    expect(r.escalations.p95MinutesToResolve).toBe(60.5);

    const csv = parseCsv((await get(`${period}&format=csv`)).text);
    const value = (category: string) => csv.find((row) => row[0] === 'escalations' && row[1] === category)?.[3];
    expect(value('resolved')).toBe('11');
    expect(value('median minutes to resolve')).toBe('21');
    expect(value('p95 minutes to resolve')).toBe('60.5');
    const page = await (await signIn(t, ADMIN.email, ADMIN.password)).get(`/console/reports${period}`);
    expect(page.text).toMatch(/<th scope="row">Escalations resolved by staff<\/th><td>11<\/td>/);
    expect(page.text).toContain('21 min');
    expect(page.text).not.toContain('Reached victim');
  });

  it('#14 services shared with victims are counted by kind, every kind listed, small cells withheld, in the JSON, the CSV and the page', async () => {
    const service = async (name: string, kind: string) => {
      const res = await t.http().post('/v1/admin/services').set('Authorization', `Bearer ${admin}`).send({ name, kind, phone: '988' });
      expect(res.status, res.text).toBe(201);
      secrets.push(name);
      return res.body.serviceId as string;
    };
    const legal = await service('Report Legal Aid Clinic', 'legal_aid');
    const shelter = await service('Report Shelter', 'shelter');
    const share = async (registrationId: string, serviceId: string) => {
      const res = await t
        .http()
        .post(`/v1/registrations/${registrationId}/services`)
        .set('Authorization', `Bearer ${specialist}`)
        .send({ serviceId });
      expect(res.status, res.text).toBe(202);
    };
    for (const registrationId of enrolledRegistrations) await share(registrationId, legal);
    for (const registrationId of enrolledRegistrations.slice(0, 3)) await share(registrationId, shelter);

    const afterNow = tomorrow();
    const res = await get(`?from=${D}&to=${afterNow}`);
    const shared = Object.fromEntries(res.body.servicesShared.map((r: { kind: string; count: unknown }) => [r.kind, r.count]));
    expect(shared).toEqual({ shelter: '<11', legal_aid: 12, counselling: 0, medical: 0, immigration_relief: 0, hotline: 0, other: 0 });
    // Shares are not alerts: the alert figures are what they were.
    expect(res.body.alerts.total).toBe(12);
    expect((await get(`?from=${yesterday}&to=${D}`)).body.servicesShared.every((r: { count: unknown }) => r.count === 0)).toBe(true);

    const csv = parseCsv((await get(`?from=${D}&to=${afterNow}&format=csv`)).text);
    expect(csv.filter((row) => row[0] === 'services shared')).toEqual(
      expect.arrayContaining([
        ['services shared', 'legal_aid', '', '12'],
        ['services shared', 'shelter', '', '<11'],
      ]),
    );
    const page = await (await signIn(t, ADMIN.email, ADMIN.password)).get(`/console/reports?from=${D}&to=${afterNow}`);
    expect(page.text).toMatch(/<th scope="row">Legal aid<\/th><td>12<\/td>/);
    expect(page.text).toMatch(/<th scope="row">Shelter<\/th><td>&lt;11<\/td>/);
    for (const text of [JSON.stringify(res.body), page.text]) for (const secret of secrets) expect(text).not.toContain(secret);
  });
});
