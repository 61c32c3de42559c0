import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { every, stopEvery } from '../common/intervals.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { type Queryable, returning } from '../database/queryable.js';
import { retryingTransaction } from '../database/retrying-transaction.js';

export interface FeedFacilityDto {
  code: string;
  name: string | null;
  lastContactAt: string;
  population: number | null;
  populationAsOf: string | null;
  /** Silent past the source's expected interval. */
  stale: boolean;
}

export interface FeedDto {
  sourceId: string;
  name: string;
  lastContactAt: string | null;
  expectedIntervalSeconds: number | null;
  stale: boolean;
  staleSince: string | null;
  facilities: FeedFacilityDto[];
}

export interface FeedTransition {
  sourceId: string;
  name: string;
  kind: 'stale' | 'recovered';
  lastContactAt: Date | null;
  /** Set when one facility's roster went silent (or came back) while its source kept reporting. */
  facility?: { id: string; code: string };
}

/**
 * SQL: a feed of source `s` whose last contact is `contact` has been silent past the source's
 * expected interval, as of $1. Without an interval a feed is never stale.
 */
export function silent(contact: string): string {
  return `(s.expected_interval_seconds IS NOT NULL AND ${contact} < $1::timestamptz - make_interval(secs => s.expected_interval_seconds))`;
}

// Contact is written at most this often per source, so a flood of events does not queue on one row.
const CONTACT_WRITE_INTERVAL_MS = 1_000;

/**
 * A silent feed is how releases go unannounced for weeks. Every authenticated request counts as
 * contact; a scheduled check marks a source stale once it is silent past its expected interval,
 * raises one alert per outage and one on recovery.
 */
@Injectable()
export class FeedHealthService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(FeedHealthService.name);
  private readonly lastWrite = new Map<string, number>();
  private listeners: ((transitions: FeedTransition[], db: Queryable) => Promise<void>)[] = [];

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly scheduler: SchedulerRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (this.config.role === 'api') return;
    every(this.scheduler, 'feed-health', this.config.feedCheckSeconds * 1000, () => this.check(), this.logger);
  }

  onModuleDestroy(): void {
    stopEvery(this.scheduler, 'feed-health');
  }

  /** The delivery pipeline subscribes here to email admins, inside the transaction that records the transition. */
  onTransition(listener: (transitions: FeedTransition[], db: Queryable) => Promise<void>): void {
    this.listeners.push(listener);
  }

  async recordContact(
    sourceId: string,
    facilityIds: string[],
    population?: { facilityId: string; count: number; asOf: Date },
  ): Promise<void> {
    const now = this.clock.now();
    const due = [sourceId, ...facilityIds].some(
      (key) => now.getTime() - (this.lastWrite.get(`${sourceId}:${key}`) ?? 0) >= CONTACT_WRITE_INTERVAL_MS,
    );
    if (!due && !population) return;
    for (const key of [sourceId, ...facilityIds]) this.lastWrite.set(`${sourceId}:${key}`, now.getTime());
    await this.db.query(`UPDATE source SET last_contact_at = greatest(last_contact_at, $2) WHERE id = $1`, [sourceId, now]);
    if (facilityIds.length) {
      await this.db.query(
        `INSERT INTO feed (source_id, facility_id, last_contact_at) SELECT $1, unnest($2::uuid[]), $3
         ON CONFLICT (source_id, facility_id) DO UPDATE SET last_contact_at = greatest(feed.last_contact_at, EXCLUDED.last_contact_at)`,
        [sourceId, facilityIds, now],
      );
    }
    if (population) {
      await this.db.query(
        `INSERT INTO feed (source_id, facility_id, last_contact_at, population, population_as_of) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (source_id, facility_id) DO UPDATE SET population = EXCLUDED.population, population_as_of = EXCLUDED.population_as_of,
           last_contact_at = greatest(feed.last_contact_at, EXCLUDED.last_contact_at)`,
        [sourceId, population.facilityId, now, population.count, population.asOf],
      );
    }
  }

  /**
   * Marks sources stale or recovered. Each transition is a conditional UPDATE, so with any number
   * of workers exactly one of them records (and announces) it.
   */
  async check(): Promise<FeedTransition[]> {
    const now = this.clock.now();
    const transitions = await retryingTransaction(this.db, async (tx) => {
      const stale = await returning<{ sourceId: string; name: string; lastContactAt: Date | null }>(
        tx,
        `UPDATE source s SET stale_since = $1
         WHERE s.stale_since IS NULL AND ${silent('coalesce(s.last_contact_at, s.created_at)')}
         RETURNING s.id AS "sourceId", s.name, s.last_contact_at AS "lastContactAt"`,
        [now],
      );
      const recovered = await returning<{ sourceId: string; name: string; lastContactAt: Date | null }>(
        tx,
        `UPDATE source s SET stale_since = NULL
         WHERE s.stale_since IS NOT NULL AND NOT (${silent('coalesce(s.last_contact_at, s.created_at)')})
         RETURNING s.id AS "sourceId", s.name, s.last_contact_at AS "lastContactAt"`,
        [now],
      );
      const all: FeedTransition[] = [
        ...stale.map((row) => ({ ...row, kind: 'stale' as const })),
        ...recovered.map((row) => ({ ...row, kind: 'recovered' as const })),
        ...(await this.checkRosterFeeds(tx, now)),
      ];
      if (all.length) {
        await tx.query(
          `INSERT INTO feed_alert (source_id, kind, last_contact_at, created_at, facility_id)
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::uuid[])`,
          [
            all.map((t) => t.sourceId),
            all.map((t) => t.kind),
            all.map((t) => t.lastContactAt),
            all.map(() => now),
            all.map((t) => t.facility?.id ?? null),
          ],
        );
      }
      if (all.length) for (const listener of this.listeners) await listener(all, tx);
      // Replay protection only needs ids inside the ±5 minute signature window.
      await tx.query(`DELETE FROM webhook_message WHERE received_at < $1::timestamptz - interval '15 minutes'`, [now]);
      return all;
    });
    for (const transition of transitions) {
      const message = transition.kind === 'stale' ? 'feed is stale: no contact within its expected interval' : 'feed recovered';
      this.logger.warn(
        {
          sourceId: transition.sourceId,
          source: transition.name,
          facility: transition.facility?.code,
          lastContactAt: transition.lastContactAt,
        },
        message,
      );
    }
    return transitions;
  }

  /**
   * Roster feeds, one facility at a time: a source sending rosters for several jails can keep
   * reporting while one of them goes quiet. Only facilities that send rosters are watched (event
   * feeds are bursty: a quiet hour at a small jail is not an outage), and not while the whole
   * source is stale (that alert already covers them).
   */
  private async checkRosterFeeds(db: Queryable, now: Date): Promise<FeedTransition[]> {
    type Row = { sourceId: string; name: string; facilityId: string; code: string; lastContactAt: Date };
    const stale = await returning<Row>(
      db,
      `UPDATE feed f SET stale_since = $1 FROM source s, facility fa
       WHERE s.id = f.source_id AND fa.id = f.facility_id AND f.population_as_of IS NOT NULL AND f.stale_since IS NULL
         AND s.stale_since IS NULL AND ${silent('f.last_contact_at')}
       RETURNING f.source_id AS "sourceId", s.name, f.facility_id AS "facilityId", fa.code, f.last_contact_at AS "lastContactAt"`,
      [now],
    );
    const recovered = await returning<Row>(
      db,
      `UPDATE feed f SET stale_since = NULL FROM source s, facility fa
       WHERE s.id = f.source_id AND fa.id = f.facility_id AND f.stale_since IS NOT NULL AND NOT (${silent('f.last_contact_at')})
       RETURNING f.source_id AS "sourceId", s.name, f.facility_id AS "facilityId", fa.code, f.last_contact_at AS "lastContactAt"`,
      [now],
    );
    const transition = (kind: 'stale' | 'recovered') => (row: Row) => ({
      sourceId: row.sourceId,
      name: row.name,
      kind,
      lastContactAt: row.lastContactAt,
      facility: { id: row.facilityId, code: row.code },
    });
    return [...stale.map(transition('stale')), ...recovered.map(transition('recovered'))];
  }

  async list(): Promise<FeedDto[]> {
    const now = this.clock.now();
    const rows: {
      sourceId: string;
      name: string;
      lastContactAt: Date | null;
      expectedIntervalSeconds: number | null;
      stale: boolean;
      staleSince: Date | null;
      facilities: FeedFacilityDto[];
    }[] = await this.db.query(
      `SELECT s.id AS "sourceId", s.name, s.last_contact_at AS "lastContactAt", s.expected_interval_seconds AS "expectedIntervalSeconds",
              s.stale_since AS "staleSince",
              (${silent('coalesce(s.last_contact_at, s.created_at)')}) AS stale,
              coalesce(json_agg(json_build_object('code', f.code, 'name', f.name, 'lastContactAt', fd.last_contact_at,
                                                  'population', fd.population, 'populationAsOf', fd.population_as_of,
                                                  'stale', ${silent('fd.last_contact_at')})
                                ORDER BY f.code)
                       FILTER (WHERE f.id IS NOT NULL), '[]') AS facilities
       FROM source s LEFT JOIN feed fd ON fd.source_id = s.id LEFT JOIN facility f ON f.id = fd.facility_id
       GROUP BY s.id ORDER BY s.name`,
      [now],
    );
    const iso = (value: string | null) => (value ? new Date(value).toISOString() : null);
    return rows.map((row) => ({
      sourceId: row.sourceId,
      name: row.name,
      lastContactAt: row.lastContactAt?.toISOString() ?? null,
      expectedIntervalSeconds: row.expectedIntervalSeconds,
      stale: row.stale,
      staleSince: row.staleSince?.toISOString() ?? null,
      facilities: row.facilities.map((f) => ({ ...f, lastContactAt: iso(f.lastContactAt)!, populationAsOf: iso(f.populationAsOf) })),
    }));
  }
}
