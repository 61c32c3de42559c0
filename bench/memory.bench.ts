import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { FieldCipher } from '../src/common/crypto/field-cipher.js';
import { EMBEDDED_DATABASE } from '../src/database/cli-database.js';
import { freePort } from '../src/database/embedded-postgres.launcher.js';
import { rosterBody } from './roster-body.js';
import { report } from './support.js';

/*
 * Memory of `npm start` as a user runs it: one node process (ROLE=all, no node flags but
 * --enable-source-maps), the embedded PostgreSQL in a fresh DATA_DIR, the dev outbox. Driven over
 * HTTP through a feed's life: 20 batches of 1,000 events, a release for one person with
 * REGISTRATIONS registrations (an SMS and an email contact each) planned and sent, then a
 * 100,000-person roster of ~50 MB. Peak RSS is read per phase from the kernel (VmHWM, reset at each
 * phase's start through /proc/<pid>/clear_refs), for the node process and the PostgreSQL processes.
 *
 * BENCH_DIAG=1 adds a probe (`--import`) that samples process.memoryUsage() inside the app, to say
 * where the memory goes (heap, external, array buffers); BENCH_NODE_FLAGS adds flags such as
 * --heap-prof. Either makes the run something other than `npm start`, so the report says so.
 */

const TARGET_MB = 300;
const BATCHES = Number(process.env.BENCH_BATCHES ?? 20);
const BATCH_SIZE = 1000;
const REGISTRATIONS = Number(process.env.BENCH_REGISTRATIONS ?? 5000);
const ROSTER_PEOPLE = Number(process.env.BENCH_ROSTER_PEOPLE ?? 100_000);
const ROSTER_BYTES = Number(process.env.BENCH_ROSTER_BYTES ?? 50_000_000);
const SAMPLE_MS = 50;
/** BENCH_PHASES=roster (for diagnosing one phase): which of ingest, release (plan and send), roster run. */
const PHASES = new Set((process.env.BENCH_PHASES ?? 'ingest,release,roster').split(','));
const DIAG = process.env.BENCH_DIAG === '1';
const EXTRA_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);

interface ProcessMemory {
  rssMb: number;
  hwmMb: number;
  anonMb: number;
  shmemMb: number;
}

async function memoryOf(pid: number): Promise<ProcessMemory | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  if (!status) return undefined;
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  return { rssMb: kb('VmRSS'), hwmMb: kb('VmHWM'), anonMb: kb('RssAnon'), shmemMb: kb('RssShmem') };
}

/** Resets a process's VmHWM to its current RSS, so the next reading is the peak of one phase. */
async function resetPeak(pid: number): Promise<boolean> {
  return writeFile(`/proc/${pid}/clear_refs`, '5').then(
    () => true,
    () => false,
  );
}

async function parentOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? 0);
}

/** The postmaster (from its pid file) and its children: backends, checkpointer, walwriter, autovacuum. */
async function postgresPids(dataDir: string): Promise<number[]> {
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  if (!existsSync(pidFile)) return [];
  const postmaster = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  const all = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const children: number[] = [];
  for (const pid of all) if ((await parentOf(pid)) === postmaster) children.push(pid);
  return [postmaster, ...children];
}

interface PhasePeak {
  name: string;
  seconds: number;
  nodePeakMb: number;
  nodeSampledMb: number;
  /** PostgreSQL: private memory of all its processes together, plus the shared buffers once. */
  postgresPeakMb: number;
  postgresLargestMb: number;
  probe?: { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
}

/** Samples the app and PostgreSQL every SAMPLE_MS; `phase()` brackets one phase and returns its peaks. */
class Sampler {
  private timer?: NodeJS.Timeout;
  private nodeMax = 0;
  private postgresMax = 0;
  private postgresLargest = 0;
  private pgPids: number[] = [];
  private pgRefresh = 0;
  private resetWorked = true;

  constructor(
    private readonly nodePid: number,
    private readonly dataDir: string,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), SAMPLE_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  get peakResetWorked(): boolean {
    return this.resetWorked;
  }

  private async sample(): Promise<void> {
    const node = await memoryOf(this.nodePid);
    if (node) this.nodeMax = Math.max(this.nodeMax, node.rssMb);
    if (Date.now() - this.pgRefresh > 1000) {
      this.pgRefresh = Date.now();
      this.pgPids = await postgresPids(this.dataDir);
    }
    const pgs = (await Promise.all(this.pgPids.map(memoryOf))).filter((m): m is ProcessMemory => Boolean(m));
    if (pgs.length) {
      const total = pgs.reduce((sum, m) => sum + m.anonMb, 0) + Math.max(...pgs.map((m) => m.shmemMb));
      this.postgresMax = Math.max(this.postgresMax, total);
      this.postgresLargest = Math.max(this.postgresLargest, ...pgs.map((m) => m.hwmMb));
    }
  }

  async phase(name: string, work: () => Promise<void>, probe?: Probe): Promise<PhasePeak> {
    this.resetWorked = (await resetPeak(this.nodePid)) && this.resetWorked;
    for (const pid of this.pgPids) await resetPeak(pid);
    await this.sample();
    this.nodeMax = 0;
    this.postgresMax = 0;
    this.postgresLargest = 0;
    const from = Date.now();
    await work();
    const to = Date.now();
    await this.sample();
    const node = await memoryOf(this.nodePid);
    return {
      name,
      seconds: (to - from) / 1000,
      nodePeakMb: this.resetWorked ? (node?.hwmMb ?? 0) : this.nodeMax,
      nodeSampledMb: this.nodeMax,
      postgresPeakMb: this.postgresMax,
      postgresLargestMb: this.postgresLargest,
      probe: await probe?.peak(from, to),
    };
  }
}

/** Reads what the `--import` probe wrote: one JSON line of process.memoryUsage() per interval. */
class Probe {
  constructor(readonly file: string) {}

  async peak(from: number, to: number): Promise<PhasePeak['probe']> {
    const text = await readFile(this.file, 'utf8').catch(() => '');
    const rows = text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { t: number } & NodeJS.MemoryUsage)
      .filter((row) => row.t >= from && row.t <= to);
    if (!rows.length) return undefined;
    // The sample with the largest RSS, so the parts add up to one moment.
    const top = rows.reduce((a, b) => (b.rss > a.rss ? b : a));
    const mb = (n: number) => n / 2 ** 20;
    return {
      rss: mb(top.rss),
      heapUsed: mb(top.heapUsed),
      heapTotal: mb(top.heapTotal),
      external: mb(top.external),
      arrayBuffers: mb(top.arrayBuffers),
    };
  }
}

function person(i: number, tag: string) {
  return {
    identifiers: [{ system: 'A_NUMBER', value: `${tag}${i}-${randomUUID().slice(0, 8)}` }],
    firstName: `First${i}`,
    lastName: `Last${i % 997}`,
  };
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'vigil-bench-memory-'));
  const port = await freePort();
  const admin = { email: 'bench@vigil.local', password: randomBytes(12).toString('hex') };
  const probeFile = path.join(dataDir, 'probe.jsonl');
  const flags = ['--enable-source-maps', ...(DIAG ? ['--import', path.resolve('dist/bench/memory-probe.js')] : []), ...EXTRA_FLAGS];
  const started = Date.now();
  const app: ChildProcess = spawn(process.execPath, [...flags, path.resolve('dist/src/main.js')], {
    // What a user's shell gives `npm start`: no DATABASE_URL, no secrets, the defaults for everything else.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DATA_DIR: dataDir,
      PORT: String(port),
      BOOTSTRAP_ADMIN_EMAIL: admin.email,
      BOOTSTRAP_ADMIN_PASSWORD: admin.password,
      ...(DIAG ? { MEMORY_PROBE_FILE: probeFile } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logBytes = 0;
  let banner = '';
  let stderr = '';
  const listening = new Promise<void>((resolve, reject) => {
    app.stdout!.on('data', (chunk: Buffer) => {
      logBytes += chunk.length;
      if (banner.length < 100_000) banner += chunk.toString();
      if (banner.includes('is listening on')) resolve();
    });
    app.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    app.once('exit', (code) => reject(new Error(`the app exited with ${code} before it listened:\n${stderr}`)));
  });
  const sampler = new Sampler(app.pid!, dataDir);
  const probe = DIAG ? new Probe(probeFile) : undefined;
  sampler.start();
  const phases: PhasePeak[] = [];
  let db: pg.Pool | undefined;
  const notes: string[] = [];
  try {
    phases.push(await sampler.phase('boot', () => listening, probe));
    const base = `http://127.0.0.1:${port}`;
    const call = async (method: string, route: string, token: string, body?: string, expect = [200, 201, 202]) => {
      const res = await fetch(`${base}${route}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
      });
      const text = await res.text();
      if (!expect.includes(res.status)) throw new Error(`${method} ${route} answered ${res.status}: ${text.slice(0, 500)}`);
      return JSON.parse(text) as Record<string, unknown>;
    };
    const { accessToken } = (await call('POST', '/v1/auth/login', '', JSON.stringify(admin))) as { accessToken: string };
    const { apiKey } = (await call('POST', '/v1/admin/sources', accessToken, JSON.stringify({ name: 'bench' }))) as { apiKey: string };

    // The bench reads the database the app started, with the credentials and key it wrote to DATA_DIR.
    const pgPort = Number(/port (\d+)\)/.exec(banner)?.[1]);
    const credentials = JSON.parse(await readFile(path.join(dataDir, 'embedded-pg.json'), 'utf8')) as { user: string; password: string };
    const secrets = JSON.parse(await readFile(path.join(dataDir, 'secrets.json'), 'utf8')) as { encryptionKey: string };
    db = new pg.Pool({
      connectionString: `postgres://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@127.0.0.1:${pgPort}/${EMBEDDED_DATABASE}`,
      max: 2,
    });
    const cipher = new FieldCipher(Buffer.from(secrets.encryptionKey, 'base64'));

    if (PHASES.has('ingest'))
      phases.push(
        await sampler.phase(
          'ingest',
          async () => {
            for (let b = 0; b < BATCHES; b++) {
              const events = Array.from({ length: BATCH_SIZE }, (_, i) => ({
                sourceEventId: randomUUID(),
                type: i % 3 === 0 ? 'RELEASED' : 'BOOKED',
                occurredAt: new Date(Date.now() - 60_000).toISOString(),
                person: person(b * BATCH_SIZE + i, 'B'),
                facility: { code: `F${i % 20}` },
              }));
              await call('POST', '/v1/custody-events', apiKey, JSON.stringify({ events }));
            }
          },
          probe,
        ),
      );

    let rosterMb = 0;
    let rosterAnswer: Record<string, unknown> = {};
    let planned = 0;
    let deliveries = 0;
    let sent = 0;
    if (PHASES.has('release')) {
      const identifier = await seedRegistrations(db, cipher, REGISTRATIONS);
      // What autovacuum would do within a minute of such a load, done before the clock starts.
      await db.query('VACUUM ANALYZE');
      let eventId = '';
      phases.push(
        await sampler.phase(
          'plan',
          async () => {
            const answer = await call(
              'POST',
              '/v1/custody-events',
              apiKey,
              JSON.stringify({
                sourceEventId: randomUUID(),
                type: 'RELEASED',
                occurredAt: new Date(Date.now() - 1000).toISOString(),
                person: { identifiers: [{ system: 'A_NUMBER', value: identifier }], firstName: 'Bench', lastName: 'Crowd' },
                facility: { code: 'BENCH-1' },
              }),
            );
            const result = (answer.results as { eventId: string; notificationsPlanned: number }[])[0];
            eventId = result.eventId;
            planned = result.notificationsPlanned;
          },
          probe,
        ),
      );
      deliveries = Number(
        (
          await db.query<{ n: string }>(
            `SELECT count(*) AS n FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.event_id = $1`,
            [eventId],
          )
        ).rows[0].n,
      );
      phases.push(
        await sampler.phase(
          'send',
          async () => {
            const deadline = Date.now() + 30 * 60_000;
            while (Date.now() < deadline) {
              const { rows } = await db!.query<{ done: string; sent: string }>(
                `SELECT count(*) FILTER (WHERE d.status NOT IN ('pending', 'held', 'sending')) AS done,
                      count(*) FILTER (WHERE d.status = 'sent') AS sent
               FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.event_id = $1`,
                [eventId],
              );
              sent = Number(rows[0].sent);
              if (Number(rows[0].done) >= deliveries) return;
              await new Promise((resolve) => setTimeout(resolve, 250));
            }
            throw new Error(`only ${sent} of ${deliveries} deliveries sent in 30 minutes`);
          },
          probe,
        ),
      );
    }

    if (PHASES.has('roster')) {
      const roster = rosterBody(new Date(Date.now() - 60_000).toISOString(), ROSTER_PEOPLE, ROSTER_BYTES);
      rosterMb = Buffer.byteLength(roster) / 2 ** 20;
      phases.push(
        await sampler.phase(
          'roster',
          async () => {
            rosterAnswer = await call('PUT', '/v1/facilities/ROSTER-1/roster', apiKey, roster);
          },
          probe,
        ),
      );
    }

    const figures: Record<string, number> = {};
    const targets: Record<string, string> = {};
    for (const phase of phases) {
      figures[`node_peak_rss_mb_${phase.name}`] = phase.nodePeakMb;
      targets[`node_peak_rss_mb_${phase.name}`] = `≤ ${TARGET_MB}`;
    }
    for (const phase of phases) figures[`postgres_peak_rss_mb_${phase.name}`] = phase.postgresPeakMb;
    for (const phase of phases) figures[`postgres_largest_process_rss_mb_${phase.name}`] = phase.postgresLargestMb;
    for (const phase of phases) figures[`seconds_${phase.name}`] = phase.seconds;
    if (DIAG)
      for (const phase of phases)
        if (phase.probe) for (const [part, mb] of Object.entries(phase.probe)) figures[`probe_${phase.name}_${part}_mb`] = mb;
    figures.events_ingested = BATCHES * BATCH_SIZE;
    figures.notifications_planned = planned;
    figures.deliveries = deliveries;
    figures.deliveries_sent = sent;
    figures.roster_people = ROSTER_PEOPLE;
    figures.roster_body_mb = rosterMb;
    figures.app_log_mb = logBytes / 2 ** 20;
    const worst = Math.max(...phases.map((p) => p.nodePeakMb));
    figures.node_peak_rss_mb_overall = worst;
    targets.node_peak_rss_mb_overall = `≤ ${TARGET_MB}`;

    console.log('\nphase    seconds   node peak RSS MB   postgres peak MB (private sum + shared)   verdict');
    for (const p of phases) {
      console.log(
        `${p.name.padEnd(8)} ${p.seconds.toFixed(1).padStart(7)}   ${p.nodePeakMb.toFixed(0).padStart(16)}   ${p.postgresPeakMb
          .toFixed(0)
          .padStart(39)}   ${p.nodePeakMb <= TARGET_MB ? 'pass' : 'FAIL'}`,
      );
    }
    notes.push(
      `npm start as a user runs it: node --enable-source-maps dist/src/main.js${flags.length > 1 ? ` (plus ${flags.slice(1).join(' ')}: a diagnostic run)` : ''}, ROLE=all, embedded PostgreSQL in a fresh DATA_DIR, dev outbox, default LOG_LEVEL (logs piped to the benchmark and counted).`,
      `Phases (${[...PHASES].join(', ')}): boot; ingest ${BATCHES} × ${BATCH_SIZE} events one batch at a time; plan one RELEASED event for a person with ${REGISTRATIONS} registrations (SMS + email each, seeded with SQL); send until every delivery left the queue; roster: PUT ${ROSTER_PEOPLE} people (${rosterMb.toFixed(1)} MB, vendor fields included) to a new facility (a baseline).`,
      sampler.peakResetWorked
        ? 'node peak = VmHWM, reset at the start of each phase (/proc/<pid>/clear_refs).'
        : `node peak = largest VmRSS sampled every ${SAMPLE_MS} ms (VmHWM could not be reset).`,
      `postgres peak = largest sampled sum of every PostgreSQL process's private RSS (RssAnon) plus the shared memory once; largest process = its VmHWM.`,
      `Roster answer: ${JSON.stringify(rosterAnswer)}. Verdict: node peak ${worst.toFixed(0)} MB, ${worst <= TARGET_MB ? 'PASS' : 'FAIL'} against ${TARGET_MB} MB.`,
      `Total run ${((Date.now() - started) / 1000).toFixed(0)} s.`,
    );
    report(DIAG ? 'memory-diagnostic' : 'memory', figures, targets, notes);
  } catch (error) {
    // The app's own last words (an out-of-memory abort, say) say more than the socket error.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    if (app.exitCode !== null || app.signalCode)
      console.error(`The app exited (${app.exitCode ?? app.signalCode}):\n${stderr.slice(-3000)}`);
    throw error;
  } finally {
    sampler.stop();
    // The probe's timeline, for seeing when in a phase the memory rises.
    if (DIAG) await copyFile(probeFile, path.resolve('bench-results', 'memory-probe.jsonl')).catch(() => undefined);
    await db?.end();
    await new Promise<void>((resolve) => {
      if (app.exitCode !== null) return resolve();
      app.once('exit', () => resolve());
      app.kill('SIGTERM');
    });
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** One person with `count` active registrations, each holding a verified SMS and a verified email contact. */
async function seedRegistrations(db: pg.Pool, cipher: FieldCipher, count: number): Promise<string> {
  const identifier = `BENCH${randomBytes(5).toString('hex').toUpperCase()}`;
  const person = await db.query<{ id: string }>(
    `INSERT INTO person (first_name, last_name, first_name_key, last_name_key) VALUES ('Bench', 'Crowd', 'bench', 'crowd') RETURNING id`,
  );
  await db.query(`INSERT INTO person_identifier (person_id, system, value) VALUES ($1, 'A_NUMBER', $2)`, [person.rows[0].id, identifier]);
  const contacts = await db.query<{ id: string; channel: string }>(
    `WITH r AS (
       INSERT INTO registration (person_id, language, manage_token_hash)
       SELECT $1, 'en', decode(md5(random()::text || g), 'hex') FROM generate_series(1, $2) g
       RETURNING id)
     INSERT INTO contact (registration_id, position, channel, address, address_index, key_id, verified_at, verified_by)
     SELECT r.id, c.position, c.channel, '', decode(md5(random()::text || r.id || c.channel), 'hex'), $3, now(), 'specialist'
     FROM r CROSS JOIN (VALUES (1, 'sms'), (2, 'email')) AS c(position, channel)
     RETURNING id, channel`,
    [person.rows[0].id, count, cipher.currentKeyId],
  );
  // Each address is sealed to its own row, so it is written once the row has its id.
  for (let i = 0; i < contacts.rows.length; i += 10_000) {
    const chunk = contacts.rows.slice(i, i + 10_000);
    await db.query(`UPDATE contact c SET address = v.address FROM unnest($1::uuid[], $2::text[]) AS v(id, address) WHERE c.id = v.id`, [
      chunk.map((row) => row.id),
      chunk.map((row) => cipher.encrypt(row.channel === 'sms' ? '+18325550100' : 'crowd@example.test', 'contact.address', row.id)),
    ]);
  }
  return identifier;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
