import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import supertest from 'supertest';
import { createApp } from '../../src/app.factory.js';
import type { Clock } from '../../src/common/clock.js';
import { loadConfig, type AppConfig } from '../../src/config/app-config.js';
import { createTestDatabase } from './test-database.js';

export const ADMIN = { email: 'admin@test.vigil', password: 'correct horse battery staple' };

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  http: () => ReturnType<typeof supertest>;
  /** A direct connection for assertions on what was stored. */
  db: pg.Pool;
  /** Every JSON log line the app wrote. */
  logs: string[];
  loginAs: (email: string, password: string) => Promise<string>;
  adminToken: (fresh?: boolean) => Promise<string>;
  /** Creates a staff member through the admin API and returns a token for them. */
  staffToken: (role: 'admin' | 'specialist', email?: string) => Promise<string>;
  close: () => Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  clock?: Clock;
  databaseUrl?: string;
  /** Where the app listens; loopback unless a test needs to be reached from another address. */
  host?: string;
}

/** Builds the app exactly as `npm start` does, on a database of its own, listening on a real port. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const url = options.databaseUrl ?? (await createTestDatabase());
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: url,
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    JWT_SECRET: randomBytes(32).toString('hex'),
    BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    LOG_LEVEL: 'info',
    PORT: '0',
    // Suites register many times from one address; the sign-up limit has its own tests.
    SIGNUP_RATE_LIMIT_PER_MINUTE: '10000',
    SIGNUP_RATE_LIMIT_PER_DAY: '1000000',
    // Most suites configure no providers and read what was sent from the dev outbox.
    DEV_OUTBOX: 'true',
    ...options.env,
  });
  const logs: string[] = [];
  const logDestination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const app = await createApp(config, { clock: options.clock, logDestination, manualDispatch: true });
  await app.listen(0, options.host ?? '127.0.0.1');
  const db = new pg.Pool({ connectionString: url, max: 4 });
  const http = () => supertest(app.getHttpServer());

  const loginAs = async (email: string, password: string) => {
    const res = await http().post('/v1/auth/login').send({ email, password });
    if (res.status !== 200) throw new Error(`login as ${email} answered ${res.status}: ${res.text}`);
    return res.body.accessToken as string;
  };
  let admin: string | undefined;
  /** The bootstrap admin's token, kept; `fresh` signs in again (a test that disabled and re-enabled the admin ended the old one). */
  const adminToken = async (fresh = false) => (fresh || !admin ? (admin = await loginAs(ADMIN.email, ADMIN.password)) : admin);
  let counter = 0;
  const staffToken = async (role: 'admin' | 'specialist', email = `${role}${++counter}-${randomBytes(3).toString('hex')}@test.vigil`) => {
    const password = `password-${randomBytes(8).toString('hex')}`;
    const res = await http()
      .post('/v1/admin/staff')
      .set('Authorization', `Bearer ${await adminToken()}`)
      .send({ email, password, role });
    if (res.status !== 201) throw new Error(`creating ${role} answered ${res.status}: ${res.text}`);
    return loginAs(email, password);
  };

  return {
    app,
    config,
    http,
    db,
    logs,
    loginAs,
    adminToken,
    staffToken,
    close: async () => {
      await app.close();
      await db.end();
    },
  };
}
