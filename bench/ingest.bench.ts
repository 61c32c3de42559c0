import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/app-config.js';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres.launcher.js';
import { ensureDatabase } from '../src/database/ensure-database.js';
import { runMigrations } from '../src/database/migrate.js';
import { cpuSeconds, postgresPids } from './process-cpu.js';
import { StatementCounter } from './statement-counter.js';
import { STATEMENT_PROFILE_SETTINGS, StatementProfile } from './statement-profile.js';
import { load, report } from './support.js';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROSTER_SIZE = 50_000;
// BENCH_PHASES=single,batch (for profiling one phase); all by default.
const PHASES = new Set((process.env.BENCH_PHASES ?? 'baselines,single,batch,roster').split(','));
const skipped = { requests: 0, seconds: 1, perSecond: 0, p50Ms: 0, p99Ms: 0, errors: 0 };
// BENCH_STATEMENTS=1 counts the SQL statements each ingest phase sends (a little CPU per statement).
const statements = process.env.BENCH_STATEMENTS === '1' ? StatementCounter.install() : undefined;
// BENCH_PG_STATS=1 loads pg_stat_statements and prints PostgreSQL's time per statement for each ingest phase.
const PG_PROFILE = process.env.BENCH_PG_STATS === '1';

function person(i: number) {
  return {
    identifiers: [{ system: 'A_NUMBER', value: `B${i}-${randomUUID().slice(0, 8)}` }],
    firstName: `First${i}`,
    lastName: `Last${i % 997}`,
  };
}

function event(i: number) {
  return {
    sourceEventId: randomUUID(),
    type: i % 3 === 0 ? 'RELEASED' : 'BOOKED',
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    person: person(i),
    facility: { code: `F${i % 20}` },
  };
}

async function main(): Promise<void> {
  const folder = await mkdtemp(path.join(tmpdir(), 'vigil-bench-'));
  const postgres = await startEmbeddedPostgres({
    dataDir: folder,
    persistent: false,
    settings: PG_PROFILE ? STATEMENT_PROFILE_SETTINGS : {},
  });
  try {
    await ensureDatabase(postgres.url(), 'vigil_bench');
    const url = postgres.url('vigil_bench');
    await runMigrations(url);
    const profile = PG_PROFILE ? await StatementProfile.install(url) : undefined;
    const admin = { email: 'bench@vigil.local', password: randomBytes(12).toString('hex') };
    const config = loadConfig({
      DATABASE_URL: url,
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      JWT_SECRET: randomBytes(32).toString('hex'),
      BOOTSTRAP_ADMIN_EMAIL: admin.email,
      BOOTSTRAP_ADMIN_PASSWORD: admin.password,
      LOG_LEVEL: 'warn',
      PORT: '0',
      DEV_OUTBOX: 'true',
    });
    const app = await createApp(config);
    await app.listen(0, '127.0.0.1');
    const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const json = async (res: Response) => (await res.json()) as Record<string, string>;
    const { accessToken } = await json(
      await fetch(`${base}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(admin),
      }),
    );
    const { apiKey } = await json(
      await fetch(`${base}/v1/admin/sources`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
        body: JSON.stringify({ name: 'bench' }),
      }),
    );
    const auth = { authorization: `Bearer ${apiKey}` };

    // Baseline 1: an HTTP server that parses the body and answers 202, under the same load generator.
    const noWork = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"results":[]}');
      });
    });
    await new Promise<void>((resolve) => noWork.listen(0, '127.0.0.1', resolve));
    const noWorkPort = (noWork.address() as { port: number }).port;
    const noWorkRun = !PHASES.has('baselines')
      ? skipped
      : await load({
          url: `http://127.0.0.1:${noWorkPort}/`,
          body: (i) => JSON.stringify(event(i)),
          concurrency: CONCURRENCY,
          seconds: SECONDS,
        });
    noWork.close();

    // Baseline 2: one-row INSERT commits through pg at the same concurrency.
    const pool = new pg.Pool({ connectionString: url, max: CONCURRENCY });
    await pool.query('CREATE TABLE bench_insert (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), body jsonb NOT NULL)');
    let inserts = 0;
    const insertStart = performance.now();
    const insertDeadline = insertStart + (PHASES.has('baselines') ? SECONDS * 1000 : 0);
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < insertDeadline) {
          await pool.query('INSERT INTO bench_insert (body) VALUES ($1)', [JSON.stringify(event(inserts))]);
          inserts++;
        }
      }),
    );
    const insertsPerSecond = inserts / ((performance.now() - insertStart) / 1000);
    await pool.end();

    // Baseline 3: the framework's own floor, the app answering GET /health/live (no body, no database).
    const nestFloor = !PHASES.has('baselines')
      ? skipped
      : await load({
          url: `${base}/health/live`,
          method: 'GET',
          body: () => '',
          concurrency: CONCURRENCY,
          seconds: SECONDS,
          expectStatus: 200,
        });

    // Per phase: CPU time per event of this process (app and load generator) and of PostgreSQL, which
    // a busy machine moves less than it moves the rates; with BENCH_STATEMENTS=1 the statements sent.
    const counted: Record<string, number> = {};
    const postgresCpu = async () => (await Promise.all((await postgresPids(folder)).map(cpuSeconds))).reduce((a, b) => a + b, 0);
    const counting = async (phase: string, events: number, run: () => Promise<typeof skipped>) => {
      if (!PHASES.has(phase)) return skipped;
      statements?.start();
      await profile?.reset();
      const before = { node: process.cpuUsage(), postgres: await postgresCpu() };
      const result = await run();
      const node = process.cpuUsage(before.node);
      const postgres = (await postgresCpu()) - before.postgres;
      const total = result.requests * events;
      counted[`${phase}_cpu_ms_per_event_node`] = (node.user + node.system) / 1000 / total;
      counted[`${phase}_cpu_ms_per_event_postgres`] = (postgres * 1000) / total;
      await profile?.print(phase, total);
      if (!statements) return result;
      const seen = statements.stop();
      const sent = seen.reduce((sum, { count }) => sum + count, 0);
      const transactions = seen
        .filter(({ statement }) => statement.startsWith('START TRANSACTION'))
        .reduce((sum, { count }) => sum + count, 0);
      console.log(`\n${phase}: ${sent} statements, ${transactions} transactions, ${total} events`);
      for (const { statement, count } of seen) console.log(`${String(count).padStart(8)}  ${statement}`);
      counted[`${phase}_statements_per_event`] = sent / total;
      counted[`${phase}_statements_per_transaction`] = sent / transactions;
      counted[`${phase}_events_per_transaction`] = total / transactions;
      return result;
    };
    if (profile) {
      // What the app costs PostgreSQL with nothing to ingest: its workers' and schedules' polling.
      await profile.reset();
      const idleBefore = await postgresCpu();
      await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
      counted.idle_postgres_cpu_ms_per_s = (((await postgresCpu()) - idleBefore) * 1000) / SECONDS;
      await profile.print('idle (per second)', SECONDS);
    }
    const single = await counting('single', 1, () =>
      load({
        url: `${base}/v1/custody-events`,
        headers: auth,
        body: (i) => JSON.stringify(event(i)),
        concurrency: CONCURRENCY,
        seconds: SECONDS,
      }),
    );
    const batch = await counting('batch', 1000, () =>
      load({
        url: `${base}/v1/custody-events`,
        headers: auth,
        body: (i) => JSON.stringify({ events: Array.from({ length: 1000 }, (_, j) => event(i * 1000 + j)) }),
        concurrency: CONCURRENCY,
        seconds: SECONDS,
      }),
    );

    const roster = Array.from({ length: ROSTER_SIZE }, (_, i) => person(i));
    const putRoster = async (people: unknown[]) => {
      const t0 = performance.now();
      const res = await fetch(`${base}/v1/facilities/ROSTER-1/roster`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({ asOf: new Date().toISOString(), people }),
      });
      if (res.status !== 202) throw new Error(`roster answered ${res.status}: ${await res.text()}`);
      return (performance.now() - t0) / 1000;
    };
    const baselineSeconds = PHASES.has('roster') ? await putRoster(roster) : 0;
    // 1 % turnover: 500 leave, 500 arrive — below the hold threshold, so the events are emitted.
    const diffSeconds = !PHASES.has('roster')
      ? 0
      : await putRoster([...roster.slice(500), ...Array.from({ length: 500 }, (_, i) => person(ROSTER_SIZE + i))]);

    await app.close();
    const errors = noWorkRun.errors + nestFloor.errors + single.errors + batch.errors;
    report(
      'ingest',
      {
        no_work_server_requests_per_s: noWorkRun.perSecond,
        raw_pg_insert_commits_per_s: insertsPerSecond,
        app_health_live_requests_per_s: nestFloor.perSecond,
        single_events_per_s: single.perSecond,
        single_event_p50_ms: single.p50Ms,
        single_event_p99_ms: single.p99Ms,
        single_vs_no_work_ratio: single.perSecond / noWorkRun.perSecond,
        single_vs_raw_insert_ratio: single.perSecond / insertsPerSecond,
        batch_events_per_s: (batch.requests * 1000) / batch.seconds,
        batch_p50_ms: batch.p50Ms,
        roster_50k_baseline_s: baselineSeconds,
        roster_50k_diff_s: diffSeconds,
        ...counted,
        errors,
      },
      { single_vs_no_work_ratio: '≥ 0.5', batch_events_per_s: '≥ 20000', roster_50k_diff_s: '≤ 3', errors: '0' },
      [`concurrency ${CONCURRENCY}, ${SECONDS} s per run; load generator, app and PostgreSQL (embedded, fsync on) share the machine.`],
    );
  } finally {
    await postgres.stop();
    await rm(folder, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
