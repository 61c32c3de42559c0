import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isSupportedCountry } from 'libphonenumber-js';
import { z } from 'zod';

export const ROLES = ['all', 'api', 'worker'] as const;
export type Role = (typeof ROLES)[number];

/** Injection token for the one validated configuration object. */
export const APP_CONFIG = Symbol('APP_CONFIG');

const int = (min: number, fallback: number) => z.coerce.number().int().min(min).default(fallback);
const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value ? value : undefined));
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => ['true', '1', 'yes'].includes(value));
const base64Key = z
  .string()
  .trim()
  .refine((value) => Buffer.from(value, 'base64').length === 32, 'must be base64 of exactly 32 bytes');
const httpUrl = z.url({ protocol: /^https?$/ });

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  ROLE: z.enum(ROLES).default('all'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: optionalText.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  DATABASE_SESSION_URL: optionalText.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  DATA_DIR: z.string().trim().min(1).default('./.data'),
  MIGRATIONS_RUN: bool(true),
  PUBLIC_BASE_URL: optionalText.pipe(httpUrl.optional()),
  QUICK_EXIT_URL: optionalText.pipe(httpUrl.optional()),
  ENCRYPTION_KEY: optionalText.pipe(base64Key.optional()),
  ENCRYPTION_KEYS_PREVIOUS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((key) => key.trim())
        .filter(Boolean),
    )
    .pipe(z.array(base64Key)),
  JWT_SECRET: optionalText.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  JWT_TTL_SECONDS: int(60, 900),
  BOOTSTRAP_ADMIN_EMAIL: optionalText.pipe(z.email().optional()),
  BOOTSTRAP_ADMIN_PASSWORD: optionalText.pipe(z.string().min(12, 'must be at least 12 characters').optional()),
  LOGIN_RATE_LIMIT_PER_MINUTE: int(1, 10),
  LOGIN_LOCKOUT_AFTER: int(1, 5),
  LOGIN_LOCKOUT_SECONDS: int(1, 60),
  LOGIN_LOCKOUT_MAX_SECONDS: int(1, 3600),
  SMTP_URL: optionalText.pipe(z.url({ protocol: /^smtps?$/ }).optional()),
  EMAIL_FROM: z.string().trim().min(3).default('Vigil <alerts@vigil.invalid>'),
  TWILIO_ACCOUNT_SID: optionalText,
  TWILIO_AUTH_TOKEN: optionalText,
  TWILIO_FROM_NUMBER: optionalText.pipe(
    z
      .string()
      .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number')
      .optional(),
  ),
  TWILIO_API_BASE_URL: optionalText.pipe(
    httpUrl.refine((value) => new URL(value).pathname === '/', 'must be scheme, host and port only').optional(),
  ),
  // Unset: on in embedded mode only. Where the dev outbox is off, every channel needs its provider.
  DEV_OUTBOX: z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .optional()
    .transform((value) => (value === undefined ? undefined : ['true', '1', 'yes'].includes(value))),
  // Unset: on in embedded mode. The demo is never seeded into a server's own database.
  DEMO: z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .optional()
    .transform((value) => (value === undefined ? undefined : ['true', '1', 'yes'].includes(value))),
  EMAIL_PER_SECOND: int(0, 0),
  SMS_PER_SECOND: int(0, 0),
  VOICE_PER_SECOND: int(0, 0),
  ROSTER_HOLD_PERCENT: z.coerce.number().min(0).max(100).default(10),
  ROSTER_HOLD_MIN: int(0, 25),
  RETRY_BASE_SECONDS: z.coerce.number().positive().default(5),
  RETRY_CAP_SECONDS: z.coerce.number().positive().default(900),
  RETRY_MAX_ATTEMPTS: int(1, 8),
  ...(Object.fromEntries(
    (['EMAIL', 'SMS', 'VOICE'] as const).flatMap((channel) => [
      [`RETRY_BASE_SECONDS_${channel}`, z.coerce.number().positive().optional()],
      [`RETRY_CAP_SECONDS_${channel}`, z.coerce.number().positive().optional()],
      [`RETRY_MAX_ATTEMPTS_${channel}`, z.coerce.number().int().min(1).optional()],
    ]),
  ) as Record<`RETRY_${'BASE_SECONDS' | 'CAP_SECONDS' | 'MAX_ATTEMPTS'}_${'EMAIL' | 'SMS' | 'VOICE'}`, z.ZodOptional<z.ZodCoercedNumber>>),
  VOICE_REPEAT_MINUTES: z.coerce.number().positive().default(30),
  VOICE_REPEAT_ANSWERED_MINUTES: z.coerce.number().positive().default(120),
  VOICE_REPEAT_HOURS: z.coerce.number().positive().default(24),
  ESCALATE_AFTER_MINUTES: z.coerce.number().positive().default(30),
  RETENTION_DAYS: int(1, 365),
  EVENT_PAYLOAD_RETENTION_DAYS: optionalText.pipe(z.coerce.number<string>().int().min(1).optional()),
  PUBLIC_RATE_LIMIT_PER_MINUTE: int(1, 60),
  SIGNUP_RATE_LIMIT_PER_MINUTE: int(1, 10),
  // Beside the minute's: at the minute's pace alone one address could have codes sent all day long.
  // Generous, as one address can be a shelter's computer or a mobile carrier's shared one.
  SIGNUP_RATE_LIMIT_PER_DAY: int(1, 200),
  // Express's "trust proxy": behind a load balancer, rate limits must count the client, not the balancer.
  // Empty is unset: docker-compose.yml passes ${TRUST_PROXY:-} when the operator sets none.
  TRUST_PROXY: optionalText.pipe(
    z
      .string()
      .regex(/^(true|false|\d+|[\w.:/, -]+)$/, 'true, false, a hop count, or addresses/subnets (e.g. loopback, 10.0.0.0/8)')
      .optional(),
  ),
  FEED_CHECK_SECONDS: int(1, 60),
  METRICS_TOKEN: optionalText.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  PHONE_COUNTRIES: z
    .string()
    .default('US,PR,GU,VI,AS,MP')
    .transform((value) =>
      value
        .split(',')
        .map((country) => country.trim().toUpperCase())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.string())
        .min(1, 'must name at least one country')
        .refine((countries) => countries.every((country) => isSupportedCountry(country)), 'must be ISO 3166 country codes, e.g. US,PR,GU'),
    ),
  CODES_PER_NUMBER_PER_DAY: int(1, 5),
  DEFAULT_TIME_ZONE: z
    .string()
    .default('America/Chicago')
    .refine((zone) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: zone });
        return true;
      } catch {
        return false;
      }
    }, 'must be an IANA time zone'),
  DISPATCH_CONCURRENCY: int(1, 16),
  DELIVERY_LEASE_SECONDS: int(1, 60),
  GLOBAL_IDENTIFIER_SYSTEMS: z
    .string()
    .default('A_NUMBER,FBI_NUMBER,STATE_ID')
    .transform((value) =>
      value
        .split(',')
        .map((system) => system.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[A-Z][A-Z0-9_]{1,31}$/, 'must be a comma-separated list of identifier systems'))),
});

type Env = z.infer<typeof envSchema>;

export interface AppConfig {
  env: Env['NODE_ENV'];
  port: number;
  role: Role;
  logLevel: Env['LOG_LEVEL'];
  publicBaseUrl: string;
  /** Where every victim page's quick exit goes: a neutral outside site. */
  quickExitUrl: string;
  /** Passed to Express's "trust proxy" when set. */
  trustProxy?: boolean | number | string;
  /**
   * sessionUrl: for what needs a connection's session to last beyond one transaction (LISTEN, the
   * migration lock) when `url` goes through a transaction-mode pooler. Unset: `url`.
   */
  database: { url?: string; sessionUrl?: string; embedded: boolean; dataDir: string; migrationsRun: boolean };
  security: {
    encryptionKey: Buffer;
    previousEncryptionKeys: Buffer[];
    jwtSecret: string;
    jwtTtlSeconds: number;
    loginRatePerMinute: number;
    /** A staff account locks from its `after`-th failed login in a row, for `baseSeconds` doubling up to `maxSeconds`. */
    loginLockout: { after: number; baseSeconds: number; maxSeconds: number };
  };
  bootstrapAdmin: { email?: string; password?: string };
  email: { smtpUrl?: string; from: string; perSecond: number };
  /** Channels without provider settings are stored in the dev outbox (embedded mode or DEV_OUTBOX=true; never production). */
  devOutbox: boolean;
  /** Seed the first-run demo (a demo feed, people, a victim whose alerts go to the dev outbox) into DATA_DIR's database. */
  demo: boolean;
  twilio?: { accountSid: string; authToken: string; fromNumber: string; apiBaseUrl?: string };
  rates: { sms: number; voice: number };
  roster: { holdPercent: number; holdMin: number };
  retry: RetryPolicy & { byChannel: Record<'email' | 'sms' | 'voice', RetryPolicy> };
  voice: { repeatMinutes: number; repeatAnsweredMinutes: number; repeatHours: number };
  escalateAfterMinutes: number;
  /**
   * A registration's personal data goes `days` after it ended; raw custody-event payloads go
   * `eventPayloadDays` after they arrived (undefined: kept).
   */
  retention: RetentionConfig;
  publicRateLimitPerMinute: number;
  /** Per client, on each route that sends messages (sign-up, resend-code), on top of the public budget. */
  signupRateLimitPerMinute: number;
  signupRateLimitPerDay: number;
  feedCheckSeconds: number;
  /** Bearer token for GET /metrics; unset, /metrics answers only connections from loopback. */
  metricsToken?: string;
  /** Where contact phone numbers may be (ISO 3166 codes). */
  phoneCountries: string[];
  /** Verification messages or calls to one phone number or email address in any 24 hours, across registrations. */
  codesPerNumberPerDay: number;
  /** Times in messages are local to the registrant's quiet-hours zone, else this one. */
  defaultTimeZone: string;
  dispatchConcurrency: number;
  /** How long a claimed delivery stays with its worker; longer than any provider call, short enough to recover from a crash. */
  deliveryLeaseSeconds: number;
  /** Identifier systems that name a person everywhere; any other system only within its source. */
  globalIdentifierSystems: string[];
  /** Things the operator should hear about at boot (never secrets). */
  warnings: string[];
}

export interface RetentionConfig {
  days: number;
  eventPayloadDays?: number;
}

export interface RetryPolicy {
  baseSeconds: number;
  capSeconds: number;
  maxAttempts: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads the environment into one typed object, or throws a ConfigError naming every bad variable.
 * In embedded mode (no DATABASE_URL) missing secrets are generated once into DATA_DIR so that a
 * laptop start needs no setup; a server with its own database must be given them.
 */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const env = parsed.data;
  const problems: string[] = [];
  const warnings: string[] = [];
  const embedded = !env.DATABASE_URL;
  const dataDir = path.resolve(env.DATA_DIR);

  const twilioFields = [env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN, env.TWILIO_FROM_NUMBER];
  if (twilioFields.some(Boolean) && !twilioFields.every(Boolean)) {
    problems.push('TWILIO_ACCOUNT_SID: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER go together');
  }
  if (Boolean(env.BOOTSTRAP_ADMIN_EMAIL) !== Boolean(env.BOOTSTRAP_ADMIN_PASSWORD) && !embedded) {
    problems.push('BOOTSTRAP_ADMIN_PASSWORD: BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD go together');
  }
  const retryDefault: RetryPolicy = {
    baseSeconds: env.RETRY_BASE_SECONDS,
    capSeconds: env.RETRY_CAP_SECONDS,
    maxAttempts: env.RETRY_MAX_ATTEMPTS,
  };
  const byChannel = Object.fromEntries(
    (['email', 'sms', 'voice'] as const).map((channel) => {
      const suffix = channel.toUpperCase() as 'EMAIL' | 'SMS' | 'VOICE';
      return [
        channel,
        {
          baseSeconds: env[`RETRY_BASE_SECONDS_${suffix}`] ?? retryDefault.baseSeconds,
          capSeconds: env[`RETRY_CAP_SECONDS_${suffix}`] ?? retryDefault.capSeconds,
          maxAttempts: env[`RETRY_MAX_ATTEMPTS_${suffix}`] ?? retryDefault.maxAttempts,
        },
      ];
    }),
  ) as Record<'email' | 'sms' | 'voice', RetryPolicy>;
  for (const [channel, policy] of Object.entries({ '': retryDefault, ...byChannel })) {
    if (policy.capSeconds < policy.baseSeconds) {
      const suffix = channel ? `_${channel.toUpperCase()}` : '';
      problems.push(`RETRY_CAP_SECONDS${suffix}: must not be smaller than RETRY_BASE_SECONDS${suffix}`);
    }
  }
  if (!embedded && !env.ENCRYPTION_KEY) problems.push('ENCRYPTION_KEY: required when DATABASE_URL is set');
  if (!embedded && !env.JWT_SECRET) problems.push('JWT_SECRET: required when DATABASE_URL is set');
  if (embedded && env.DATABASE_SESSION_URL) problems.push('DATABASE_SESSION_URL: only with DATABASE_URL');
  if (env.NODE_ENV === 'production' && !env.PUBLIC_BASE_URL) {
    problems.push('PUBLIC_BASE_URL: required in production (Twilio callbacks are signed against it)');
  }
  const devOutbox = env.DEV_OUTBOX ?? (embedded && env.NODE_ENV !== 'production');
  if (devOutbox && env.NODE_ENV === 'production') problems.push('DEV_OUTBOX: the dev outbox is not allowed when NODE_ENV=production');
  if (!devOutbox) {
    const unless = 'required unless DEV_OUTBOX=true (the dev outbox is on by default only in embedded mode)';
    if (!env.SMTP_URL) problems.push(`SMTP_URL: ${unless}: email would have nowhere to go`);
    if (!twilioFields.some(Boolean)) {
      for (const name of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM_NUMBER']) {
        problems.push(`${name}: ${unless}: SMS and calls would have nowhere to go`);
      }
    }
  }
  if (problems.length) throw new ConfigError(problems);
  // The demo victim's addresses are fictitious: they may only ever reach the dev outbox.
  const demoPossible = embedded && devOutbox && !env.SMTP_URL && !twilioFields.some(Boolean);
  if (env.DEMO === true && !demoPossible) {
    warnings.push(
      'DEMO=true is ignored: the demo runs only in embedded mode with no SMTP or Twilio settings, its alerts going to the dev outbox.',
    );
  }
  if (env.TRUST_PROXY === 'true') {
    warnings.push(
      'TRUST_PROXY=true believes every X-Forwarded-For hop: any client can name its own address and escape the rate limits. Give the hop count or the proxies’ subnets.',
    );
  }

  let encryptionKey = env.ENCRYPTION_KEY;
  let jwtSecret = env.JWT_SECRET;
  if (embedded && (!encryptionKey || !jwtSecret)) {
    const local = readOrCreateLocalSecrets(dataDir);
    if (!encryptionKey) {
      encryptionKey = local.encryptionKey;
      warnings.push(`ENCRYPTION_KEY is not set: using the key generated in ${local.file}. Back it up; losing it loses every contact.`);
    }
    jwtSecret ??= local.jwtSecret;
  }

  return {
    env: env.NODE_ENV,
    port: env.PORT,
    role: env.ROLE,
    logLevel: env.LOG_LEVEL,
    publicBaseUrl: (env.PUBLIC_BASE_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
    quickExitUrl: env.QUICK_EXIT_URL ?? 'https://www.weather.gov/',
    database: { url: env.DATABASE_URL, sessionUrl: env.DATABASE_SESSION_URL, embedded, dataDir, migrationsRun: env.MIGRATIONS_RUN },
    security: {
      encryptionKey: Buffer.from(encryptionKey!, 'base64'),
      previousEncryptionKeys: env.ENCRYPTION_KEYS_PREVIOUS.map((key) => Buffer.from(key, 'base64')),
      jwtSecret: jwtSecret!,
      jwtTtlSeconds: env.JWT_TTL_SECONDS,
      loginRatePerMinute: env.LOGIN_RATE_LIMIT_PER_MINUTE,
      loginLockout: { after: env.LOGIN_LOCKOUT_AFTER, baseSeconds: env.LOGIN_LOCKOUT_SECONDS, maxSeconds: env.LOGIN_LOCKOUT_MAX_SECONDS },
    },
    bootstrapAdmin: { email: env.BOOTSTRAP_ADMIN_EMAIL?.toLowerCase(), password: env.BOOTSTRAP_ADMIN_PASSWORD },
    email: { smtpUrl: env.SMTP_URL, from: env.EMAIL_FROM, perSecond: env.EMAIL_PER_SECOND },
    devOutbox,
    demo: demoPossible && env.DEMO !== false,
    twilio: env.TWILIO_ACCOUNT_SID
      ? {
          accountSid: env.TWILIO_ACCOUNT_SID,
          authToken: env.TWILIO_AUTH_TOKEN!,
          fromNumber: env.TWILIO_FROM_NUMBER!,
          apiBaseUrl: env.TWILIO_API_BASE_URL?.replace(/\/+$/, ''),
        }
      : undefined,
    rates: { sms: env.SMS_PER_SECOND, voice: env.VOICE_PER_SECOND },
    roster: { holdPercent: env.ROSTER_HOLD_PERCENT, holdMin: env.ROSTER_HOLD_MIN },
    retry: { ...retryDefault, byChannel },
    voice: {
      repeatMinutes: env.VOICE_REPEAT_MINUTES,
      repeatAnsweredMinutes: env.VOICE_REPEAT_ANSWERED_MINUTES,
      repeatHours: env.VOICE_REPEAT_HOURS,
    },
    escalateAfterMinutes: env.ESCALATE_AFTER_MINUTES,
    retention: { days: env.RETENTION_DAYS, eventPayloadDays: env.EVENT_PAYLOAD_RETENTION_DAYS },
    publicRateLimitPerMinute: env.PUBLIC_RATE_LIMIT_PER_MINUTE,
    signupRateLimitPerMinute: env.SIGNUP_RATE_LIMIT_PER_MINUTE,
    signupRateLimitPerDay: env.SIGNUP_RATE_LIMIT_PER_DAY,
    trustProxy: trustProxy(env.TRUST_PROXY),
    feedCheckSeconds: env.FEED_CHECK_SECONDS,
    metricsToken: env.METRICS_TOKEN,
    phoneCountries: [...new Set(env.PHONE_COUNTRIES)],
    codesPerNumberPerDay: env.CODES_PER_NUMBER_PER_DAY,
    globalIdentifierSystems: env.GLOBAL_IDENTIFIER_SYSTEMS,
    defaultTimeZone: env.DEFAULT_TIME_ZONE,
    dispatchConcurrency: env.DISPATCH_CONCURRENCY,
    deliveryLeaseSeconds: env.DELIVERY_LEASE_SECONDS,
    warnings,
  };
}

function trustProxy(value: string | undefined): boolean | number | string | undefined {
  if (value === undefined || value === 'false') return undefined;
  if (value === 'true') return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}

function readOrCreateLocalSecrets(dataDir: string): { file: string; encryptionKey: string; jwtSecret: string } {
  const file = path.join(dataDir, 'secrets.json');
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { encryptionKey: string; jwtSecret: string };
    return { file, ...stored };
  }
  mkdirSync(dataDir, { recursive: true });
  const secrets = { encryptionKey: randomBytes(32).toString('base64'), jwtSecret: randomBytes(48).toString('base64url') };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
  return { file, ...secrets };
}
