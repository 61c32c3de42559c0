import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createApp } from '../src/app.factory.js';
import { FieldCipher } from '../src/common/crypto/field-cipher.js';
import { loadConfig } from '../src/config/app-config.js';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres.launcher.js';
import { ensureDatabase } from '../src/database/ensure-database.js';
import { runMigrations } from '../src/database/migrate.js';
import { DELIVERY_CHANNEL } from '../src/database/delivery.repository.js';
import { startInstantTwilio } from './fake-twilio.js';
import { cpuSeconds, postgresPids } from './process-cpu.js';
import { report } from './support.js';

const RATE = 200;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const FAN_OUT = 100_000;
const DISPATCH_DELIVERIES = Number(process.env.BENCH_DISPATCH ?? 10_000);
/** How a worker is deployed: V8 otherwise sizes its heap from the machine's 24 GiB and grows it freely. */
const WORKER_NODE_OPTIONS = ['--max-old-space-size=192', ...(process.env.BENCH_WORKER_FLAGS ?? '').split(' ').filter(Boolean)];
/** Which parts run (for profiling one of them): latency, planning, dispatch. */
const PHASES = new Set((process.env.BENCH_PHASES ?? 'latency,planning,dispatch').split(','));

async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

async function main(): Promise<void> {
  const folder = await mkdtemp(path.join(tmpdir(), 'vigil-bench-delivery-'));
  // BENCH_PG_STATS=1 reports the statements PostgreSQL spent its time on (pg_stat_statements), for profiling.
  const pgStats = process.env.BENCH_PG_STATS === '1';
  const postgres = await startEmbeddedPostgres({
    dataDir: folder,
    persistent: false,
    settings: {
      max_connections: '300',
      ...(pgStats ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track_planning': 'on' } : {}),
    },
  });
  const twilio = await startInstantTwilio();
  const workers: ChildProcess[] = [];
  try {
    await ensureDatabase(postgres.url(), 'vigil_bench');
    const url = postgres.url('vigil_bench');
    await runMigrations(url);
    const key = randomBytes(32);
    const admin = { email: 'bench@vigil.local', password: randomBytes(12).toString('hex') };
    const env = {
      DATABASE_URL: url,
      ENCRYPTION_KEY: key.toString('base64'),
      JWT_SECRET: randomBytes(32).toString('hex'),
      BOOTSTRAP_ADMIN_EMAIL: admin.email,
      BOOTSTRAP_ADMIN_PASSWORD: admin.password,
      TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
      TWILIO_AUTH_TOKEN: 'bench',
      TWILIO_FROM_NUMBER: '+15005550006',
      TWILIO_API_BASE_URL: twilio.baseUrl,
      PUBLIC_BASE_URL: 'http://127.0.0.1',
      LOG_LEVEL: 'warn',
      MIGRATIONS_RUN: 'false',
      DEV_OUTBOX: 'true',
    };
    const app = await createApp(loadConfig({ ...env, ROLE: 'api', PORT: '0' }));
    await app.listen(0, '127.0.0.1');
    const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const call = async (method: string, route: string, token: string, body?: unknown) => {
      const res = await fetch(`${base}${route}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (res.status >= 300) throw new Error(`${method} ${route} answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as Record<string, unknown>;
    };
    const login = await fetch(`${base}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(admin),
    });
    const adminToken = ((await login.json()) as { accessToken: string }).accessToken;
    const { apiKey } = (await call('POST', '/v1/admin/sources', adminToken, { name: 'bench' })) as { apiKey: string };
    const db = new pg.Pool({ connectionString: url, max: 4 });
    if (pgStats) await db.query(`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`);
    const cipher = new FieldCipher(key);
    /** Resolves once the worker has booted (it prints its banner after the app has started). */
    const spawnWorker = () => {
      const child = spawn(process.execPath, [...WORKER_NODE_OPTIONS, path.resolve('dist/src/main.js')], {
        env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', ...env, ROLE: 'worker', PORT: '0' },
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      workers.push(child);
      return new Promise<void>((resolve, reject) => {
        let banner = '';
        child.stdout.on('data', (chunk: Buffer) => {
          banner += chunk.toString();
          if (banner.includes('is listening on')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
      });
    };
    const stopWorkers = async () => {
      const rss = await Promise.all(workers.map((w) => peakRss(w.pid!)));
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve) => {
              w.once('exit', () => resolve());
              w.kill('SIGTERM');
            }),
        ),
      );
      workers.length = 0;
      return Math.max(0, ...rss);
    };
    // Polls through the small partial indexes of due and leased work, so watching costs PostgreSQL next to
    // nothing; the crowd's parked alerts (due tomorrow) do not count.
    const waitDrained = async (limitMs: number) => {
      const deadline = Date.now() + limitMs;
      const waiting = async () =>
        (
          await db.query<{ waiting: boolean }>(
            `SELECT EXISTS (SELECT 1 FROM delivery WHERE status IN ('pending', 'held') AND due_at <= now())
                    OR EXISTS (SELECT 1 FROM delivery WHERE status = 'sending') AS waiting`,
          )
        ).rows[0].waiting;
      while ((await waiting()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    };

    // 1. Event-to-first-attempt latency at 200 events/s (batches of 20 every 100 ms), one worker process.
    let eventsSent = 0;
    let latencies: number[] = [];
    let latencyWorkerRss = 0;
    if (PHASES.has('latency')) {
      const people = 200;
      const seeded = await seedRegistrations(db, cipher, people, 1);
      await spawnWorker();
      const started = Date.now();
      let sent = 0;
      const inFlight: Promise<unknown>[] = [];
      for (let tick = 0; Date.now() - started < SECONDS * 1000; tick++) {
        const due = started + tick * 100;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        const events = Array.from({ length: RATE / 10 }, () => ({
          sourceEventId: randomUUID(),
          type: 'RELEASED',
          occurredAt: new Date(Date.now() - 1000).toISOString(),
          person: {
            identifiers: [{ system: 'A_NUMBER', value: seeded.identifiers[sent++ % people] }],
            firstName: 'Bench',
            lastName: 'Person',
          },
          facility: { code: 'BENCH-1' },
        }));
        inFlight.push(call('POST', '/v1/custody-events', apiKey, { events }));
      }
      await Promise.all(inFlight);
      eventsSent = sent;
      await waitDrained(120_000);
      latencies = (
        await db.query<{ ms: string }>(
          `SELECT extract(epoch FROM (a.started_at - e.received_at)) * 1000 AS ms
         FROM delivery d JOIN notification n ON n.id = d.notification_id JOIN custody_event e ON e.id = n.event_id
         JOIN delivery_attempt a ON a.delivery_id = d.id AND a.attempt_no = 1`,
        )
      ).rows
        .map((r) => Number(r.ms))
        .sort((a, b) => a - b);
      latencyWorkerRss = await stopWorkers();
    }

    // 2. Planning one event for 100,000 registrations (inside the ingestion transaction). Its alerts
    // are what the dispatch rounds send, so they are parked (held, due tomorrow) once it is timed.
    let planSeconds = 0;
    let planned = 0;
    const planCrowd = async () => {
      const crowd = await seedRegistrations(db, cipher, 1, FAN_OUT);
      // What autovacuum does within a minute of such a load (and of the latency phase), done before the
      // clock starts rather than during it: without statistics PostgreSQL takes the crowd for a handful
      // of rows and plans 100,000 index lookups instead of one hash join.
      await db.query(`VACUUM ANALYZE`);
      const t0 = performance.now();
      const answer = await call('POST', '/v1/custody-events', apiKey, {
        sourceEventId: randomUUID(),
        type: 'RELEASED',
        occurredAt: new Date(Date.now() - 1000).toISOString(),
        person: { identifiers: [{ system: 'A_NUMBER', value: crowd.identifiers[0] }], firstName: 'Bench', lastName: 'Crowd' },
        facility: { code: 'BENCH-1' },
      });
      const seconds = (performance.now() - t0) / 1000;
      const notified = (answer.results as { notificationsPlanned: number }[])[0].notificationsPlanned;
      // Nothing else is waiting (the latency phase drained), so the pending alerts are the crowd's. By
      // status rather than through the event: statistics from before the crowd would plan a join badly.
      const parked = await db.query(`UPDATE delivery SET status = 'held', due_at = now() + interval '1 day' WHERE status = 'pending'`);
      if (parked.rowCount !== notified) throw new Error(`parked ${parked.rowCount} alerts for ${notified} registrations`);
      await db.query(`VACUUM ANALYZE delivery`);
      return { seconds, planned: parked.rowCount ?? 0 };
    };
    if (PHASES.has('planning')) ({ seconds: planSeconds, planned } = await planCrowd());

    // 3. Dispatch rate with 1 and with 4 worker processes: the workers boot first (timed apart), then
    // the deliveries are queued in one transaction and announced; timed from that transaction to the
    // last attempt's end in the ledger.
    const rates: Record<string, number> = {};
    const boots: number[] = [];
    const cpu: Record<string, { worker: number; postgres: number; bench: number }> = {};
    let dispatchRss = 0;
    // Server processes are listed at the end too: the workers' pools open connections as load grows.
    const used = async () => {
      const pids = [...workers.map((w) => w.pid!), ...(await postgresPids(folder))];
      return new Map(await Promise.all(pids.map(async (pid) => [pid, await cpuSeconds(pid)] as const)));
    };
    /**
     * Releases DISPATCH_DELIVERIES of the crowd's parked alerts (due now) and waits for them to drain;
     * the rate, and the CPU time per delivery by process.
     */
    const round = async () => {
      const released = await db.query<{ id: string; at: Date }>(
        `UPDATE delivery SET due_at = now()
         WHERE id IN (SELECT id FROM delivery WHERE status = 'held' AND purpose = 'alert' ORDER BY id LIMIT $1)
         RETURNING id, now() AS at`,
        [DISPATCH_DELIVERIES],
      );
      if (released.rows.length < DISPATCH_DELIVERIES) throw new Error(`only ${released.rows.length} parked alerts left to dispatch`);
      const ids = released.rows.map((row) => row.id);
      const workerPids = new Set(workers.map((w) => w.pid!));
      const before = { processes: await used(), bench: process.cpuUsage() };
      await db.query(`SELECT pg_notify($1, 'due')`, [DELIVERY_CHANNEL]);
      await waitDrained(600_000);
      const after = await used();
      const spent = { worker: 0, postgres: 0, bench: 0 };
      for (const [pid, seconds] of after) spent[workerPids.has(pid) ? 'worker' : 'postgres'] += seconds - (before.processes.get(pid) ?? 0);
      const bench = process.cpuUsage(before.bench);
      spent.bench = (bench.user + bench.system) / 1e6;
      const { rows } = await db.query<{ sent: string; seconds: string }>(
        `SELECT count(DISTINCT d.id) FILTER (WHERE d.status = 'sent') AS sent, extract(epoch FROM max(a.finished_at) - $2) AS seconds
         FROM delivery d LEFT JOIN delivery_attempt a ON a.delivery_id = d.id WHERE d.id = ANY($1::uuid[])`,
        [ids, released.rows[0].at],
      );
      const perDelivery = (seconds: number) => (seconds * 1000) / DISPATCH_DELIVERIES;
      return {
        rate: Number(rows[0].sent) / Number(rows[0].seconds),
        cpu: { worker: perDelivery(spent.worker), postgres: perDelivery(spent.postgres), bench: perDelivery(spent.bench) },
      };
    };
    const workerCounts = PHASES.has('dispatch') ? (process.env.BENCH_WORKER_COUNTS ?? '1,4').split(',').map(Number) : [];
    // Dispatch alone (BENCH_PHASES=dispatch) still needs the crowd's alerts; planned here, untimed.
    if (workerCounts.length && !PHASES.has('planning')) await planCrowd();
    if (pgStats) await db.query(`SELECT pg_stat_statements_reset()`);
    for (const count of workerCounts) {
      const spawned = performance.now();
      await Promise.all(Array.from({ length: count }, () => spawnWorker()));
      boots.push((performance.now() - spawned) / 1000);
      // The first round runs in freshly booted workers, whose code V8 is still compiling (on its own
      // threads, counted as the worker's CPU); the second is the steady state of a long-lived worker.
      for (const phase of ['cold', 'warm']) {
        const result = await round();
        const key = `${count}_worker${count > 1 ? 's' : ''}${phase === 'cold' ? '_cold' : ''}`;
        rates[key] = result.rate;
        cpu[key] = result.cpu;
      }
      dispatchRss = Math.max(dispatchRss, await stopWorkers());
    }

    if (pgStats) {
      const top = await db.query<Record<string, unknown>>(
        `SELECT round(total_exec_time) AS ms, round(total_plan_time) AS plan_ms, calls, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query
         FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15`,
      );
      console.table(top.rows);
      const tables = await db.query<Record<string, unknown>>(
        `SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname IN ('delivery', 'delivery_attempt')`,
      );
      console.table(tables.rows);
    }
    await app.close();
    await db.end();
    report(
      'delivery',
      {
        events_sent: eventsSent,
        event_to_first_attempt_p50_ms: quantile(latencies, 0.5),
        event_to_first_attempt_p99_ms: quantile(latencies, 0.99),
        planning_100k_registrations_s: planSeconds,
        deliveries_planned: planned,
        ...Object.fromEntries(Object.entries(rates).map(([key, rate]) => [`dispatch_per_s_${key}`, rate])),
        ...Object.fromEntries(
          Object.entries(cpu).flatMap(([key, used]) =>
            Object.entries(used).map(([part, ms]) => [`cpu_ms_per_delivery_${part}_${key}`, ms]),
          ),
        ),
        worker_boot_s_1: boots[0] ?? 0,
        worker_boot_s_4_at_once: boots[1] ?? 0,
        peak_rss_worker_mb: Math.max(latencyWorkerRss, dispatchRss),
        peak_rss_api_mb: process.resourceUsage().maxRSS / 1024,
      },
      {
        event_to_first_attempt_p99_ms: '≤ 250',
        planning_100k_registrations_s: '≤ 5',
        dispatch_per_s_4_workers: '≥ 2000',
        peak_rss_worker_mb: '≤ 300',
        peak_rss_api_mb: '≤ 300',
      },
      [
        `${RATE} events/s for ${SECONDS} s in batches of ${RATE / 10} every 100 ms, one SMS contact each; instant fake Twilio on loopback.`,
        `Dispatch: ${DISPATCH_DELIVERIES} of the crowd's planned release alerts (SMS) made due in one transaction once the workers are up, timed from that transaction to the last attempt's end; worker boot is timed apart. ` +
          `Two rounds per worker count: "cold" right after boot, while V8 is still compiling the send path in every process, then the steady state of long-lived workers.`,
        `Workers run with ${WORKER_NODE_OPTIONS.join(' ')}.`,
        'peak_rss_api_mb is the benchmark process, which also runs the API and the load generator.',
        'cpu_ms_per_delivery: CPU time used while draining, per delivery: all workers, the PostgreSQL server, and the benchmark process (the fake Twilio, the API idling, the drain poll).',
      ],
    );
  } finally {
    for (const w of workers) w.kill('SIGKILL');
    await twilio.stop();
    await postgres.stop();
    await rm(folder, { recursive: true, force: true });
  }
}

/** `people` persons, each with `perPerson` active registrations holding one verified SMS contact. */
async function seedRegistrations(db: pg.Pool, cipher: FieldCipher, people: number, perPerson: number): Promise<{ identifiers: string[] }> {
  const identifiers = Array.from({ length: people }, () => `BENCH${randomBytes(5).toString('hex').toUpperCase()}`);
  for (const identifier of identifiers) {
    const person = await db.query<{ id: string }>(
      `INSERT INTO person (first_name, last_name, first_name_key, last_name_key) VALUES ('Bench', 'Person', 'bench', 'person') RETURNING id`,
    );
    await db.query(`INSERT INTO person_identifier (person_id, system, value) VALUES ($1, 'A_NUMBER', $2)`, [person.rows[0].id, identifier]);
    const contacts = await db.query<{ id: string }>(
      `WITH r AS (
         INSERT INTO registration (person_id, language, manage_token_hash)
         SELECT $1, 'en', gen_random_bytes_compat FROM (SELECT decode(md5(random()::text || g), 'hex') AS gen_random_bytes_compat FROM generate_series(1, $2) g) s
         RETURNING id)
       INSERT INTO contact (registration_id, position, channel, address, address_index, key_id, verified_at, verified_by)
       SELECT r.id, 1, 'sms', '', decode(md5(random()::text || r.id), 'hex'), $3, now(), 'specialist' FROM r RETURNING id`,
      [person.rows[0].id, perPerson, cipher.currentKeyId],
    );
    // Each address is sealed to its own row, so it is written once the row has its id.
    const ids = contacts.rows.map((row) => row.id);
    for (let i = 0; i < ids.length; i += 10_000) {
      const chunk = ids.slice(i, i + 10_000);
      await db.query(`UPDATE contact c SET address = v.address FROM unnest($1::uuid[], $2::text[]) AS v(id, address) WHERE c.id = v.id`, [
        chunk,
        chunk.map((id) => cipher.encrypt('+18325550100', 'contact.address', id)),
      ]);
    }
  }
  return { identifiers };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
