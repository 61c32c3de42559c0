import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Providers, startProviders } from '../support/providers.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import type { TestApp } from '../support/test-app.js';
import { createTestDatabase } from '../support/test-database.js';
import { listeningPort, spawnVigil, stopAllVigils, stopVigil, waitFor } from '../support/worker-process.js';

const ADMIN = { email: 'admin@roles.test', password: 'correct horse battery staple' };

/**
 * Just enough of TestApp for the shared source helpers, pointed at a Vigil running in another
 * process: its HTTP port and a direct connection to its database.
 */
function remote(port: number, db: pg.Pool): TestApp {
  const http = () => supertest(`http://127.0.0.1:${port}`);
  let token: string | undefined;
  const adminToken = async () => {
    token ??= (await http().post('/v1/auth/login').send(ADMIN)).body.accessToken as string;
    return token;
  };
  return { http, db, adminToken } as unknown as TestApp;
}

describe('#15 ROLE=api and ROLE=worker as separate processes on one database', () => {
  let providers: Providers;
  const key = randomBytes(32).toString('base64');
  const jwt = randomBytes(32).toString('hex');

  beforeAll(async () => {
    providers = await startProviders();
  });
  afterAll(async () => {
    await stopAllVigils();
    await providers.stop();
  });

  const env = (url: string, role: 'api' | 'worker', extra: Record<string, string> = {}) => ({
    ROLE: role,
    DATABASE_URL: url,
    MIGRATIONS_RUN: 'false',
    ENCRYPTION_KEY: key,
    JWT_SECRET: jwt,
    BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    PUBLIC_BASE_URL: 'https://vigil.test',
    DEV_OUTBOX: 'false',
    ...providers.env,
    ...extra,
  });

  /** A booked person with an enrolment (contacts attested, so verified) by email only. */
  async function enrolledPerson(t: TestApp, source: TestSource, identifier: string, email: string): Promise<string> {
    const booked = await postEvents(t, source, event({ person: personWith(identifier) }));
    expect(booked.status, booked.text).toBe(202);
    const { rows } = await t.db.query(`SELECT person_id FROM custody_event WHERE id = $1`, [booked.body.results[0].eventId]);
    const enrolled = await t
      .http()
      .post('/v1/enrollments')
      .set('Authorization', `Bearer ${await t.adminToken()}`)
      .send({ personId: rows[0].person_id, language: 'en', contacts: [{ channel: 'email', address: email }] });
    expect(enrolled.status, enrolled.text).toBe(201);
    return enrolled.body.registrationId as string;
  }

  // The worker records the attempt's outcome, then the delivery's status, in two statements: wait for both.
  const settled = async (db: pg.Pool, registrationId: string) => {
    const [first] = await releaseAttempts(db, registrationId);
    return first?.outcome != null && first.status !== 'sending';
  };

  const release = (t: TestApp, source: TestSource, identifier: string) =>
    postEvents(t, source, event({ person: personWith(identifier), type: 'RELEASED' }));

  const releaseAttempts = async (db: pg.Pool, registrationId: string) =>
    (
      await db.query(
        `SELECT d.status, a.outcome FROM delivery d JOIN contact c ON c.id = d.contact_id
         LEFT JOIN delivery_attempt a ON a.delivery_id = d.id
         WHERE c.registration_id = $1 AND d.purpose <> 'verification' ORDER BY a.attempt_no`,
        [registrationId],
      )
    ).rows as { status: string; outcome: string | null }[];

  it('#15 with only the api running a RELEASED alert waits in the queue; the worker started later sends it and the ledger records the attempt', async () => {
    const url = await createTestDatabase();
    const db = new pg.Pool({ connectionString: url, max: 2 });
    const api = spawnVigil(env(url, 'api'));
    try {
      const t = remote(await listeningPort(api), db);
      const source = await createSource(t);
      const email = 'api-then-worker@example.org';
      const registrationId = await enrolledPerson(t, source, 'ROLE-LATE-1', email);
      const released = await release(t, source, 'ROLE-LATE-1');
      expect(released.status, released.text).toBe(202);
      expect(await releaseAttempts(db, registrationId)).toEqual([{ status: 'pending', outcome: null }]);

      // An api process that dispatched would have sent within its one-second poll; give it several.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(providers.smtp.to(email)).toHaveLength(0);
      expect(await releaseAttempts(db, registrationId)).toEqual([{ status: 'pending', outcome: null }]);

      const worker = spawnVigil(env(url, 'worker'));
      await waitFor(
        () => Promise.resolve(providers.smtp.to(email).length > 0),
        60_000,
        () => Promise.resolve(worker.output.join('').slice(-3000)),
      );
      const [mail] = providers.smtp.to(email);
      expect(mail.subject).toBe('Vigil alert: John Doe');
      expect(mail.text).toMatch(/released/i);
      await waitFor(
        () => settled(db, registrationId),
        10_000,
        async () => JSON.stringify(await releaseAttempts(db, registrationId)),
      );
      expect(await releaseAttempts(db, registrationId)).toEqual([{ status: 'sent', outcome: 'accepted' }]);
      await stopVigil(worker);
    } finally {
      await stopVigil(api);
      await db.end();
    }
  }, 120_000);

  it('#15 api and worker both running: the worker, woken through DATABASE_SESSION_URL, delivers an alert ingested by the api', async () => {
    const url = await createTestDatabase();
    const db = new pg.Pool({ connectionString: url, max: 2 });
    // The worker's session connection (LISTEN) goes through this hop, its pool straight to PostgreSQL.
    const { proxy: sessionHop, url: sessionUrl } = await TcpProxy.before(url);
    const api = spawnVigil(env(url, 'api'));
    const worker = spawnVigil(env(url, 'worker', { DATABASE_SESSION_URL: sessionUrl }));
    try {
      const t = remote(await listeningPort(api), db);
      await listeningPort(worker);
      await waitFor(
        async () =>
          Number(
            (await db.query(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`)).rows[0]
              .count,
          ) >= 2,
        30_000,
        () => Promise.resolve(worker.output.join('').slice(-3000)),
      );
      const source = await createSource(t);
      const email = 'both-running@example.org';
      const registrationId = await enrolledPerson(t, source, 'ROLE-BOTH-1', email);
      // The delivery and revocation listeners came through the hop; nothing else is configured to.
      expect(sessionHop.accepted).toBeGreaterThanOrEqual(2);
      const released = await release(t, source, 'ROLE-BOTH-1');
      expect(released.status, released.text).toBe(202);
      await waitFor(
        () => Promise.resolve(providers.smtp.to(email).length > 0),
        30_000,
        () => Promise.resolve(worker.output.join('').slice(-3000)),
      );
      await waitFor(
        () => settled(db, registrationId),
        10_000,
        async () => JSON.stringify(await releaseAttempts(db, registrationId)),
      );
      expect(await releaseAttempts(db, registrationId)).toEqual([{ status: 'sent', outcome: 'accepted' }]);
    } finally {
      await Promise.all([stopVigil(worker), stopVigil(api)]);
      await sessionHop.stop();
      await db.end();
    }
  }, 120_000);
});

describe('#15 .env in the working directory', () => {
  it('#15 Vigil reads settings from ./.env, and a variable already in the environment wins', async () => {
    const url = await createTestDatabase();
    const folder = mkdtempSync(path.join(tmpdir(), 'vigil-dotenv-'));
    writeFileSync(
      path.join(folder, '.env'),
      [
        `DATABASE_URL=${url}`,
        `ENCRYPTION_KEY=${randomBytes(32).toString('base64')}`,
        `JWT_SECRET=${randomBytes(32).toString('hex')}`,
        'MIGRATIONS_RUN=false',
        'ROLE=worker',
        'DEV_OUTBOX=true',
      ].join('\n'),
    );
    const child = spawnVigil({ ROLE: 'api' }, { cwd: folder });
    try {
      const port = await listeningPort(child);
      expect(child.output.join('')).toContain('Vigil (api) is listening');
      const ready = await supertest(`http://127.0.0.1:${port}`).get('/health/ready');
      expect(ready.status).toBe(200);
    } finally {
      await stopVigil(child);
    }
  });

  it('#15 the command-line tools read ./.env too', async () => {
    const url = await createTestDatabase();
    const folder = mkdtempSync(path.join(tmpdir(), 'vigil-dotenv-'));
    writeFileSync(
      path.join(folder, '.env'),
      `DATABASE_URL=${url}\nENCRYPTION_KEY=${randomBytes(32).toString('base64')}\nJWT_SECRET=${randomBytes(32).toString('hex')}\nDEV_OUTBOX=true\n`,
    );
    const cli = spawn(process.execPath, [path.resolve('dist/src/cli/vigil.js'), 'ledger:verify'], {
      cwd: folder,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'test' },
    });
    let output = '';
    cli.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    cli.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => cli.once('exit', resolve));
    expect(code, output).toBe(0);
    expect(output).toContain('Ledger check passed');
  });
});
