import { createHmac } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { Clock } from './clock.js';
import { subkey } from './crypto/field-cipher.js';
import { loggableError } from './database-errors.js';

const WINDOW_SECONDS = 60;
const SWEEP_EVERY_MS = 60_000;
/** How long a failed-login streak is remembered after its last failure (at least the longest lock). */
const STREAK_MEMORY_MS = 24 * 3_600_000;
const LOGIN_ACCOUNT = 'login-account';

export interface RateCheck {
  /** `public`, `login`, or a route's own bucket. */
  bucket: string;
  /** Requests allowed per window in this bucket. */
  limit: number;
  /** The window's length; a minute unless said. */
  windowSeconds?: number;
}

/**
 * Counters in PostgreSQL, shared by every api process: one upsert per request bumps the window
 * (a minute, or a bucket's own) of each bucket it counts in. A window starts at a client's first request and the first
 * request after it ends starts the next (a fixed window per client, not per clock minute, so a
 * burst is never split across two). Keys are HMACs (a key derived from ENCRYPTION_KEY), so the
 * table holds no client address and no email. This is the one owner of the rate_limit table.
 */
@Injectable()
export class RateLimiter implements OnApplicationShutdown {
  private readonly logger = new Logger(RateLimiter.name);
  private readonly hashKey: Buffer;
  private lastSweep = 0;
  private sweeping?: Promise<unknown>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.hashKey = subkey(config.security.encryptionKey, 'vigil/rate-limit');
  }

  /** Counts one request of `client` in every bucket; the seconds until it may retry when any is over its limit. */
  async consume(client: string, checks: RateCheck[]): Promise<number | undefined> {
    const now = this.clock.now();
    const rows: { bucket: string; hits: number; expiresAt: Date }[] = await this.db.query(
      `INSERT INTO rate_limit AS r (bucket, key, window_start, hits, expires_at)
       SELECT b, $2, $3, 1, $3::timestamptz + make_interval(secs => w) FROM unnest($1::text[], $4::int[]) AS v(b, w)
       ON CONFLICT (bucket, key) DO UPDATE SET
         window_start = CASE WHEN r.expires_at <= $3 THEN EXCLUDED.window_start ELSE r.window_start END,
         hits = CASE WHEN r.expires_at <= $3 THEN 1 ELSE r.hits + 1 END,
         expires_at = CASE WHEN r.expires_at <= $3 THEN EXCLUDED.expires_at ELSE r.expires_at END
       RETURNING bucket, hits, expires_at AS "expiresAt"`,
      [
        checks.map((check) => check.bucket),
        this.keyOf(`client:${client}`),
        now,
        checks.map((check) => check.windowSeconds ?? WINDOW_SECONDS),
      ],
    );
    this.sweepNowAndThen(now);
    const over = rows.filter((row) => row.hits > checks.find((check) => check.bucket === row.bucket)!.limit);
    if (!over.length) return undefined;
    return Math.max(1, Math.ceil((Math.max(...over.map((row) => row.expiresAt.getTime())) - now.getTime()) / 1000));
  }

  /**
   * Takes one login attempt for an account (any email, known or not) before its password is judged,
   * so parallel guesses cannot slip past the lock. From the `after`-th attempt of a streak on, each
   * attempt locks the account for a backoff that doubles; a success ends the streak (`forgive`).
   * Answers the seconds left when the account is locked, and then takes nothing.
   */
  async loginAttempt(email: string): Promise<number | undefined> {
    const now = this.clock.now();
    const { after, baseSeconds, maxSeconds } = this.config.security.loginLockout;
    const expires = new Date(now.getTime() + Math.max(STREAK_MEMORY_MS, maxSeconds * 1000));
    const [row]: { hits: number | null; blockedUntil: Date | null }[] = await this.db.query(
      `WITH attempt AS (
         INSERT INTO rate_limit AS r (bucket, key, window_start, hits, expires_at, blocked_until)
         VALUES ($1, $2, $3, 1, $4, CASE WHEN 1 >= $5::int THEN $3::timestamptz + make_interval(secs => $6::float8) END)
         ON CONFLICT (bucket, key) DO UPDATE SET hits = r.hits + 1, expires_at = EXCLUDED.expires_at,
           blocked_until = CASE WHEN r.hits + 1 >= $5::int
             THEN $3::timestamptz + make_interval(secs => least($7::float8, $6::float8 * 2 ^ (r.hits + 1 - $5::int))) END
         WHERE r.blocked_until IS NULL OR r.blocked_until <= $3
         RETURNING hits)
       SELECT (SELECT hits FROM attempt) AS hits, (SELECT blocked_until FROM rate_limit WHERE bucket = $1 AND key = $2) AS "blockedUntil"`,
      [LOGIN_ACCOUNT, this.keyOf(`email:${email}`), now, expires, after, baseSeconds, maxSeconds],
    );
    this.sweepNowAndThen(now);
    if (row.hits !== null) return undefined;
    return Math.max(1, Math.ceil(((row.blockedUntil?.getTime() ?? now.getTime()) - now.getTime()) / 1000));
  }

  /** A successful login ends the account's streak. */
  async forgive(email: string): Promise<void> {
    await this.db.query(`DELETE FROM rate_limit WHERE bucket = $1 AND key = $2`, [LOGIN_ACCOUNT, this.keyOf(`email:${email}`)]);
  }

  /** Resolves once a sweep under way has finished. */
  async settled(): Promise<void> {
    await this.sweeping;
  }

  onApplicationShutdown(): Promise<void> {
    return this.settled();
  }

  private keyOf(value: string): Buffer {
    return createHmac('sha256', this.hashKey).update(value).digest().subarray(0, 16);
  }

  /** Expired rows go at most once a minute per process, off the request's path (an index on expires_at). */
  private sweepNowAndThen(now: Date): void {
    if (this.sweeping || now.getTime() - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now.getTime();
    this.sweeping = this.db
      .query(`DELETE FROM rate_limit WHERE expires_at < $1`, [now])
      .catch((error: unknown) => this.logger.warn({ err: loggableError(error) }, 'rate limit sweep failed; the next one retries'))
      .finally(() => (this.sweeping = undefined));
  }
}
