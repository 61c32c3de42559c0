import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './app-config.js';

const server = {
  DATABASE_URL: 'postgres://vigil:secret@db.internal:5432/vigil',
  ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  JWT_SECRET: 'x'.repeat(40),
  DEV_OUTBOX: 'true',
};
const providers = {
  SMTP_URL: 'smtps://user:pass@smtp.example.org:465',
  TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
  TWILIO_AUTH_TOKEN: 'token',
  TWILIO_FROM_NUMBER: '+15005550006',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(server);
    expect(config).toMatchObject({
      port: 3000,
      role: 'all',
      publicBaseUrl: 'http://localhost:3000',
      roster: { holdPercent: 10, holdMin: 25 },
      retry: { baseSeconds: 5, capSeconds: 900, maxAttempts: 8 },
      voice: { repeatMinutes: 30, repeatAnsweredMinutes: 120, repeatHours: 24 },
      escalateAfterMinutes: 30,
      publicRateLimitPerMinute: 60,
      feedCheckSeconds: 60,
      phoneCountries: ['US', 'PR', 'GU', 'VI', 'AS', 'MP'],
      codesPerNumberPerDay: 5,
      database: { embedded: false, migrationsRun: true },
    });
    expect(config.security.encryptionKey).toHaveLength(32);
    expect(config.twilio).toBeUndefined();
    expect(config.email.smtpUrl).toBeUndefined();
  });

  it('#15 DATABASE_SESSION_URL: for LISTEN and the migration lock behind a transaction pooler; only beside DATABASE_URL', () => {
    expect(loadConfig(server).database.sessionUrl).toBeUndefined();
    const direct = 'postgres://vigil:secret@db.internal:5432/vigil';
    const pooled = { ...server, DATABASE_URL: 'postgres://vigil:secret@pgbouncer.internal:6432/vigil', DATABASE_SESSION_URL: direct };
    expect(loadConfig(pooled).database).toMatchObject({ url: pooled.DATABASE_URL, sessionUrl: direct });
    expect(problemsOf({ ...server, DATABASE_SESSION_URL: 'mysql://x/y' }).join()).toContain('DATABASE_SESSION_URL');
    const embedded = { DATA_DIR: mkdtempSync(path.join(tmpdir(), 'vigil-config-')), DATABASE_SESSION_URL: direct };
    expect(problemsOf(embedded)).toContain('DATABASE_SESSION_URL: only with DATABASE_URL');
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ ROLE: 'both' }, 'ROLE'],
    [{ DATABASE_URL: 'mysql://x/y' }, 'DATABASE_URL'],
    [{ ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') }, 'ENCRYPTION_KEY'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ PUBLIC_BASE_URL: 'not a url' }, 'PUBLIC_BASE_URL'],
    [{ TWILIO_API_BASE_URL: 'http://127.0.0.1:4010/2010-04-01' }, 'TWILIO_API_BASE_URL'],
    [{ TWILIO_ACCOUNT_SID: 'AC123' }, 'TWILIO_ACCOUNT_SID'],
    [{ TWILIO_FROM_NUMBER: '5551234' }, 'TWILIO_FROM_NUMBER'],
    [{ SMTP_URL: 'http://mail' }, 'SMTP_URL'],
    [{ RETRY_MAX_ATTEMPTS: '0' }, 'RETRY_MAX_ATTEMPTS'],
    [{ RETRY_BASE_SECONDS: '100', RETRY_CAP_SECONDS: '10' }, 'RETRY_CAP_SECONDS'],
    [{ ROSTER_HOLD_PERCENT: '150' }, 'ROSTER_HOLD_PERCENT'],
    [{ MIGRATIONS_RUN: 'maybe' }, 'MIGRATIONS_RUN'],
    [{ PHONE_COUNTRIES: 'US,XX' }, 'PHONE_COUNTRIES'],
    [{ PHONE_COUNTRIES: ' , ' }, 'PHONE_COUNTRIES'],
    [{ CODES_PER_NUMBER_PER_DAY: '0' }, 'CODES_PER_NUMBER_PER_DAY'],
    [{ BOOTSTRAP_ADMIN_EMAIL: 'root@example.org' }, 'BOOTSTRAP_ADMIN_PASSWORD'],
    [{ NODE_ENV: 'production' }, 'PUBLIC_BASE_URL'],
  ])('refuses %o naming %s', (bad, variable) => {
    const problems = problemsOf({ ...server, ...bad });
    expect(problems.some((p) => p.startsWith(`${variable}:`))).toBe(true);
  });

  it('#15 keeps registrations RETENTION_DAYS (365) after they end, and event payloads until EVENT_PAYLOAD_RETENTION_DAYS is set', () => {
    expect(loadConfig(server).retention).toEqual({ days: 365, eventPayloadDays: undefined });
    expect(loadConfig({ ...server, EVENT_PAYLOAD_RETENTION_DAYS: '' }).retention.eventPayloadDays).toBeUndefined();
    expect(loadConfig({ ...server, RETENTION_DAYS: '30', EVENT_PAYLOAD_RETENTION_DAYS: '90' }).retention).toEqual({
      days: 30,
      eventPayloadDays: 90,
    });
    expect(problemsOf({ ...server, RETENTION_DAYS: '0', EVENT_PAYLOAD_RETENTION_DAYS: 'soon' }).map((p) => p.split(':')[0])).toEqual([
      'RETENTION_DAYS',
      'EVENT_PAYLOAD_RETENTION_DAYS',
    ]);
  });

  it('#11.12 reads PHONE_COUNTRIES as upper-case country codes', () => {
    expect(loadConfig({ ...server, PHONE_COUNTRIES: 'us, pr,US' }).phoneCountries).toEqual(['US', 'PR']);
  });

  it('#11.14 warns that TRUST_PROXY=true lets any client name its own address; a hop count or subnets do not warn', () => {
    expect(loadConfig({ ...server, TRUST_PROXY: 'true' }).warnings.join(' ')).toMatch(/TRUST_PROXY=true.*escape the rate limits/);
    expect(loadConfig({ ...server, TRUST_PROXY: '1' }).warnings).toEqual([]);
    expect(loadConfig({ ...server, TRUST_PROXY: '10.0.0.0/8' }).warnings).toEqual([]);
  });

  it('#15 every variable docker-compose.yml defaults to empty (${NAME:-}) loads as if unset', () => {
    const emptied = [...readFileSync('docker-compose.yml', 'utf8').matchAll(/\$\{(\w+):-\}/g)].map((match) => match[1]);
    expect(emptied).toContain('TRUST_PROXY');
    const env = { ...server, ...Object.fromEntries(emptied.map((name) => [name, ''])) };
    expect(loadConfig(env)).toMatchObject({
      trustProxy: undefined,
      bootstrapAdmin: { email: undefined, password: undefined },
      retention: { eventPayloadDays: undefined },
    });
  });

  it('lets each channel override the retry policy', () => {
    const config = loadConfig({ ...server, RETRY_MAX_ATTEMPTS_VOICE: '20', RETRY_BASE_SECONDS_SMS: '2' });
    expect(config.retry.byChannel).toEqual({
      email: { baseSeconds: 5, capSeconds: 900, maxAttempts: 8 },
      sms: { baseSeconds: 2, capSeconds: 900, maxAttempts: 8 },
      voice: { baseSeconds: 5, capSeconds: 900, maxAttempts: 20 },
    });
    expect(problemsOf({ ...server, RETRY_CAP_SECONDS_EMAIL: '1' })).toEqual([
      'RETRY_CAP_SECONDS_EMAIL: must not be smaller than RETRY_BASE_SECONDS_EMAIL',
    ]);
  });

  it('names every bad variable at once', () => {
    const problems = problemsOf({ ...server, PORT: '-1', ROLE: 'x', FEED_CHECK_SECONDS: '0' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['FEED_CHECK_SECONDS', 'PORT', 'ROLE']);
  });

  it('requires secrets when the database is not embedded', () => {
    const problems = problemsOf({ DATABASE_URL: server.DATABASE_URL, DEV_OUTBOX: 'true' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['ENCRYPTION_KEY', 'JWT_SECRET']);
  });

  it('in embedded mode generates secrets once into DATA_DIR, privately, and reuses them', () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-config-'));
    const first = loadConfig({ DATA_DIR: dataDir });
    const second = loadConfig({ DATA_DIR: dataDir });
    expect(first.database.embedded).toBe(true);
    expect(first.security.encryptionKey.equals(second.security.encryptionKey)).toBe(true);
    expect(first.security.jwtSecret).toBe(second.security.jwtSecret);
    expect(first.warnings.join(' ')).toContain('ENCRYPTION_KEY');
    const file = path.join(dataDir, 'secrets.json');
    expect(statSync(file).mode & 0o077).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8')).encryptionKey).toBe(first.security.encryptionKey.toString('base64'));
  });

  it('builds the Twilio settings only when all three are given', () => {
    const config = loadConfig({
      ...server,
      TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
      TWILIO_AUTH_TOKEN: 'token',
      TWILIO_FROM_NUMBER: '+15005550006',
      TWILIO_API_BASE_URL: 'http://127.0.0.1:4010/',
    });
    expect(config.twilio).toEqual({
      accountSid: 'AC00000000000000000000000000000000',
      authToken: 'token',
      fromNumber: '+15005550006',
      apiBaseUrl: 'http://127.0.0.1:4010',
    });
  });

  it('#11.10 with its own database and no DEV_OUTBOX, refuses to start without SMTP and Twilio settings, naming each', () => {
    const { DEV_OUTBOX: _, ...bare } = server;
    const missing = problemsOf(bare);
    expect(missing.map((p) => p.split(':')[0]).sort()).toEqual([
      'SMTP_URL',
      'TWILIO_ACCOUNT_SID',
      'TWILIO_AUTH_TOKEN',
      'TWILIO_FROM_NUMBER',
    ]);
    expect(missing.join('\n')).toContain('DEV_OUTBOX=true');
    expect(problemsOf({ ...bare, SMTP_URL: providers.SMTP_URL }).map((p) => p.split(':')[0])).toEqual([
      'TWILIO_ACCOUNT_SID',
      'TWILIO_AUTH_TOKEN',
      'TWILIO_FROM_NUMBER',
    ]);
    const { SMTP_URL: __, ...twilioOnly } = providers;
    expect(problemsOf({ ...bare, ...twilioOnly }).map((p) => p.split(':')[0])).toEqual(['SMTP_URL']);
    expect(problemsOf({ ...bare, DEV_OUTBOX: 'false' }).length).toBe(4);
    expect(loadConfig({ ...bare, ...providers }).devOutbox).toBe(false);
  });

  it('#11.10 allows the dev outbox only in embedded mode or with DEV_OUTBOX=true, never in production', () => {
    expect(loadConfig(server).devOutbox).toBe(true);
    expect(loadConfig({ DATA_DIR: mkdtempSync(path.join(tmpdir(), 'vigil-config-')) }).devOutbox).toBe(true);
    expect(problemsOf({ ...server, NODE_ENV: 'production', PUBLIC_BASE_URL: 'https://vigil.example.org' })).toEqual([
      expect.stringMatching(/^DEV_OUTBOX: /),
    ]);
  });
});
