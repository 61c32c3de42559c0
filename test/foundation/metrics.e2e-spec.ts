import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { StaffAlertsService } from '../../src/delivery/staff-alerts.service.js';
import { ManualClock } from '../support/manual-clock.js';
import { startProviders, type Providers } from '../support/providers.js';
import { bookPerson, enrolEveryChannel } from '../support/registrations.js';
import { createSource, event, personWith, postEvents, putRoster, type TestSource } from '../support/sources.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { createTestDatabase } from '../support/test-database.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

interface Scrape {
  text: string;
  /** Every metric name a query may use: declared names, with a histogram's `_bucket`, `_sum` and `_count`. */
  names: Set<string>;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

function parseScrape(text: string): Scrape {
  const names = new Set<string>();
  const samples: Scrape['samples'] = [];
  for (const line of text.split('\n')) {
    const declared = /^# TYPE (\w+) (\w+)$/.exec(line);
    if (declared) {
      const [, name, type] = declared;
      names.add(name);
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
      if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
      continue;
    }
    if (!line || line.startsWith('#')) continue;
    const sample = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`unreadable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
    samples.push({ name: sample[1], labels, value: Number(sample[3]) });
  }
  return { text, names, samples };
}

/** The sum of every series of `name` whose labels include `labels`; undefined when there is none. */
function valueOf(scrape: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  const matching = scrape.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return matching.length ? matching.reduce((sum, s) => sum + s.value, 0) : undefined;
}

const delta = (before: Scrape, after: Scrape, name: string, labels: Record<string, string> = {}) =>
  (valueOf(after, name, labels) ?? 0) - (valueOf(before, name, labels) ?? 0);

/** An address of this machine other than loopback, to reach the app the way another host would. */
const externalAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && !a.internal && a.family === 'IPv4')?.address;

/** Each `expr:` of a rule file, written on its line or as a block scalar (`expr: |` and the lines indented under it). */
function ruleExpressions(yaml: string): string[] {
  const lines = yaml.split('\n');
  const found: string[] = [];
  lines.forEach((line, i) => {
    const rule = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!rule) return;
    if (!/^[|>]/.test(rule[2])) return void found.push(rule[2]);
    const body: string[] = [];
    for (let j = i + 1; j < lines.length && (lines[j].trim() === '' || lines[j].search(/\S/) > rule[1].length); j++) body.push(lines[j]);
    found.push(body.join('\n'));
  });
  return found;
}

const rosterPeople = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => personWith(`${prefix}-${i}`, { firstName: `P${i}`, lastName: prefix }));

describe('#15 GET /metrics on an app without METRICS_TOKEN', () => {
  let t: TestApp;
  let providers: Providers;
  let source: TestSource;
  const clock = new ManualClock();
  const SOURCE_NAME = 'Metrics County Feed';

  beforeAll(async () => {
    providers = await startProviders();
    t = await startTestApp({
      clock,
      // Reachable from the machine's other addresses too, so the loopback rule meets a real remote peer.
      host: '0.0.0.0',
      env: {
        ...providers.env,
        PUBLIC_BASE_URL: 'https://vigil.test',
        PUBLIC_RATE_LIMIT_PER_MINUTE: '1',
        // Every X-Forwarded-For hop believed: the metrics rule must still look at the socket.
        TRUST_PROXY: 'true',
        RETRY_MAX_ATTEMPTS_SMS: '1',
        ROSTER_HOLD_MIN: '5',
      },
    });
    source = await createSource(t, { name: SOURCE_NAME });
  });
  afterAll(async () => {
    await t.close();
    await providers.stop();
  });

  const scrape = async (): Promise<Scrape> => {
    const res = await t.http().get('/metrics');
    expect(res.status, res.text).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseScrape(res.text);
  };
  const drain = () => t.app.get(DispatcherService).drain();

  it('#15 ingest: custody events count by source, type and outcome (recorded, duplicate, conflict, rejected)', async () => {
    const before = await scrape();
    const booked = event({ type: 'BOOKED' });
    const released = event({ type: 'RELEASED' });
    expect((await postEvents(t, source, { events: [booked, released] })).status).toBe(202);
    const replay = await postEvents(t, source, booked);
    expect(replay.body.results[0].status).toBe('duplicate');
    expect((await postEvents(t, source, { ...booked, person: personWith('MET-OTHER') })).status).toBe(409);
    const badPerson = await postEvents(t, source, event({ type: 'BOOKED', person: { identifiers: [] } }));
    expect(badPerson.status).toBe(422);
    expect((await postEvents(t, source, { events: [event({ type: 'PAROLED' }), event({ type: 'ESCAPED' })] })).status).toBe(422);
    const future = event({ type: 'BOOKED', occurredAt: new Date(clock.now().getTime() + 3_600_000).toISOString() });
    expect((await postEvents(t, source, future)).status).toBe(422);
    const after = await scrape();

    const count = (type: string, outcome: string) =>
      delta(before, after, 'vigil_custody_events_total', { source: SOURCE_NAME, type, outcome });
    expect(count('BOOKED', 'recorded')).toBe(1);
    expect(count('RELEASED', 'recorded')).toBe(1);
    expect(count('BOOKED', 'duplicate')).toBe(1);
    expect(count('BOOKED', 'conflict')).toBe(1);
    expect(count('BOOKED', 'rejected')).toBe(2);
    expect(count('unknown', 'rejected')).toBe(1);
    expect(count('ESCAPED', 'rejected')).toBe(1);
    expect(delta(before, after, 'vigil_custody_events_total', { source: SOURCE_NAME })).toBe(8);
    // Labels name the source, never the person.
    const person = booked.person as { identifiers: { value: string }[] };
    expect(after.text).not.toContain(person.identifiers[0].value);
    expect(after.text).not.toContain('Doe');
  });

  it('#15 deliver: the due queue, its oldest age, the attempt histogram and the delivery gauges move', async () => {
    const specialist = await t.staffToken('specialist');
    const personId = await bookPerson(t, source, 'MET-DLV');
    const contacts = { email: 'metrics.victim@example.org', sms: '+17135550381', voice: '+17135550382' };
    await enrolEveryChannel(t, specialist, personId, contacts);
    await drain();
    const before = await scrape();

    const release = await postEvents(t, source, event({ type: 'RELEASED', person: personWith('MET-DLV') }));
    expect(release.body.results[0].notificationsPlanned).toBe(1);
    clock.advance(90_000);
    const queued = await scrape();
    expect(delta(before, queued, 'vigil_planning_duration_seconds_count')).toBe(1);
    for (const channel of ['email', 'sms', 'voice']) {
      expect(valueOf(queued, 'vigil_deliveries', { channel, status: 'pending' })).toBe(1);
    }
    expect(valueOf(queued, 'vigil_due_deliveries')).toBe(3);
    expect(valueOf(queued, 'vigil_oldest_due_delivery_age_seconds')).toBeCloseTo(90, 3);

    providers.twilio.failNext('message', 503, 30001);
    expect(await drain()).toBe(3);
    const sent = await scrape();
    const attempts = (channel: string, outcome: string) =>
      delta(queued, sent, 'vigil_delivery_attempt_duration_seconds_count', { channel, outcome });
    expect(attempts('email', 'accepted')).toBe(1);
    expect(attempts('voice', 'accepted')).toBe(1);
    expect(attempts('sms', 'transient_error')).toBe(1);
    expect(
      delta(queued, sent, 'vigil_delivery_attempt_duration_seconds_bucket', { channel: 'email', outcome: 'accepted', le: '+Inf' }),
    ).toBe(1);
    expect(delta(queued, sent, 'vigil_deliveries_processed_total', { channel: 'email', status: 'sent' })).toBe(1);
    expect(delta(queued, sent, 'vigil_deliveries_processed_total', { channel: 'sms', status: 'dead' })).toBe(1);
    expect(valueOf(sent, 'vigil_deliveries', { status: 'pending' })).toBe(0);
    expect(delta(queued, sent, 'vigil_deliveries', { channel: 'sms', status: 'dead' })).toBe(1);
    expect(valueOf(sent, 'vigil_due_deliveries')).toBe(0);
    expect(valueOf(sent, 'vigil_oldest_due_delivery_age_seconds')).toBe(0);

    // Nobody confirmed the release in time: it escalates, and stays open until staff resolve it.
    expect(valueOf(sent, 'vigil_escalations_open')).toBe(0);
    clock.advance(31 * 60_000);
    await t.app.get(StaffAlertsService).escalate();
    clock.advance(10 * 60_000);
    const escalated = await scrape();
    expect(valueOf(escalated, 'vigil_escalations_open')).toBe(1);
    expect(valueOf(escalated, 'vigil_oldest_open_escalation_age_seconds')).toBeCloseTo(600, 3);
    expect(escalated.text).not.toContain('metrics.victim');
    expect(escalated.text).not.toContain('7135550381');
  });

  it('#15 held roster diffs and stale feeds are gauged from the database', async () => {
    const before = await scrape();
    const rosterSource = await createSource(t, { expectedIntervalSeconds: 60 });
    expect((await putRoster(t, rosterSource, 'MET-R', { asOf: clock.now().toISOString(), people: rosterPeople('MR', 10) })).status).toBe(
      202,
    );
    const emptied = await putRoster(t, rosterSource, 'MET-R', { asOf: new Date(clock.now().getTime() + 1000).toISOString(), people: [] });
    expect(emptied.body).toMatchObject({ held: true, released: 10 });
    const held = await scrape();
    expect(valueOf(held, 'vigil_roster_diffs_held')).toBe(1);
    expect(delta(before, held, 'vigil_roster_snapshots_total', { outcome: 'baseline' })).toBe(1);
    expect(delta(before, held, 'vigil_roster_snapshots_total', { outcome: 'held' })).toBe(1);
    expect(valueOf(held, 'vigil_stale_feeds', { kind: 'source' })).toBe(valueOf(before, 'vigil_stale_feeds', { kind: 'source' }));

    clock.advance(5 * 60_000);
    const silent = await scrape();
    expect(delta(held, silent, 'vigil_stale_feeds', { kind: 'source' })).toBe(1);
    expect(valueOf(silent, 'vigil_oldest_held_roster_diff_age_seconds')).toBeGreaterThanOrEqual(300);
  });

  it('#15 a worker process serves its own counters beside the same database gauges', async () => {
    const worker = await startTestApp({ clock, databaseUrl: t.config.database.url, env: { ...providers.env, ROLE: 'worker' } });
    try {
      const res = await worker.http().get('/metrics');
      expect(res.status).toBe(200);
      const [own, api] = [parseScrape(res.text), await scrape()];
      expect(valueOf(api, 'vigil_custody_events_total', { source: SOURCE_NAME })).toBeGreaterThan(0);
      expect(own.names.has('vigil_custody_events_total')).toBe(true);
      expect(valueOf(own, 'vigil_custody_events_total')).toBeUndefined();
      for (const gauge of ['vigil_escalations_open', 'vigil_roster_diffs_held', 'vigil_oldest_due_delivery_age_seconds']) {
        expect(valueOf(own, gauge), gauge).toBe(valueOf(api, gauge));
      }
    } finally {
      await worker.close();
    }
  });

  it('#15 loopback only: a peer on another address gets 403 problem+json, whatever X-Forwarded-For claims', async (context) => {
    if (!externalAddress) return context.skip('this machine has no address besides loopback');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const remote = supertest(`http://${externalAddress}:${port}`);
    expect((await remote.get('/health/live')).status).toBe(200);
    for (const forwarded of [undefined, '127.0.0.1', '::1']) {
      const req = remote.get('/metrics');
      if (forwarded) req.set('X-Forwarded-For', forwarded);
      const res = await req;
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.text).not.toContain('vigil_');
    }
    // A loopback peer that carries a proxy's header is a proxy on this host forwarding someone else.
    for (const [header, value] of [
      ['X-Forwarded-For', '203.0.113.7'],
      ['Forwarded', 'for=203.0.113.7'],
      ['X-Real-IP', '203.0.113.7'],
    ]) {
      const res = await t.http().get('/metrics').set(header, value);
      expect(res.status, header).toBe(403);
      expect(res.text).not.toContain('vigil_');
    }
    expect((await t.http().get('/metrics')).status).toBe(200);
  });

  it('#15 not rate limited like the public routes', async () => {
    expect((await t.http().get('/en/search?identifierSystem=A_NUMBER&identifier=A1')).status).not.toBe(429);
    expect((await t.http().get('/en/search?identifierSystem=A_NUMBER&identifier=A1')).status).toBe(429);
    for (let i = 0; i < 5; i++) expect((await t.http().get('/metrics')).status).toBe(200);
  });

  it('#15 every metric the Grafana dashboard and the alert rules query is one the app exposes', async () => {
    const exposed = (await scrape()).names;
    const dashboard = JSON.parse(readFileSync('docs/grafana-dashboard.json', 'utf8')) as unknown;
    const exprs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object')
        for (const [key, value] of Object.entries(node)) {
          if ((key === 'expr' || key === 'query') && typeof value === 'string') exprs.push(value);
          else walk(value);
        }
    };
    walk(dashboard);
    const dashboardCount = exprs.length;
    expect(dashboardCount).toBeGreaterThanOrEqual(10);
    const rules = readFileSync('docs/prometheus-alerts.yml', 'utf8');
    exprs.push(...ruleExpressions(rules));
    expect(exprs.length - dashboardCount).toBeGreaterThanOrEqual(6);
    const used = new Set(exprs.flatMap((expr) => [...expr.matchAll(/\bvigil_\w+/g)].map((m) => m[0])));
    expect(used.size).toBeGreaterThanOrEqual(12);
    expect([...used].filter((name) => !exposed.has(name))).toEqual([]);
    for (const topic of ['vigil_oldest_due_delivery_age_seconds', 'vigil_stale_feeds', 'vigil_roster_diffs_held']) {
      expect(rules).toContain(topic);
    }
  });
});

describe('#15 GET /metrics with METRICS_TOKEN', () => {
  const TOKEN = 'metrics-token-for-the-test-0123456789';
  let t: TestApp;
  let proxy: TcpProxy;
  beforeAll(async () => {
    const hop = await TcpProxy.before(await createTestDatabase());
    proxy = hop.proxy;
    t = await startTestApp({ databaseUrl: hop.url, env: { METRICS_TOKEN: TOKEN } });
  });
  afterAll(async () => {
    await t.close();
    await proxy.stop();
  });

  it('#15 answers 401 problem+json without the token or with a wrong one, even on loopback', async () => {
    for (const authorization of [undefined, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, TOKEN]) {
      const req = t.http().get('/metrics');
      if (authorization) req.set('Authorization', authorization);
      const res = await req;
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 401 });
      expect(res.text).not.toContain('vigil_');
    }
    const ok = await t.http().get('/metrics').set('Authorization', `Bearer ${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.text).toMatch(/^vigil_metrics_database_up 1$/m);
  });

  it('#15 while PostgreSQL is down, still answers 200 with the process metrics and vigil_metrics_database_up 0', async () => {
    proxy.cut();
    try {
      const res = await t.http().get('/metrics').set('Authorization', `Bearer ${TOKEN}`);
      expect(res.status).toBe(200);
      const down = parseScrape(res.text);
      expect(valueOf(down, 'vigil_metrics_database_up')).toBe(0);
      expect(valueOf(down, 'vigil_process_cpu_user_seconds_total')).toBeGreaterThan(0);
      expect(down.names.has('vigil_custody_events_total')).toBe(true);
      expect(down.names.has('vigil_due_deliveries')).toBe(false);
    } finally {
      proxy.restore();
    }
    const back = parseScrape((await t.http().get('/metrics').set('Authorization', `Bearer ${TOKEN}`)).text);
    expect(valueOf(back, 'vigil_metrics_database_up')).toBe(1);
    expect(valueOf(back, 'vigil_due_deliveries')).toBe(0);
  });
});
