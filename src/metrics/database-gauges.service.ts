import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Gauge, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { loggableError } from '../common/database-errors.js';
import { CHANNELS } from '../registrations/contact-address.js';
import { silent } from '../sources/feed-health.service.js';
import { METRIC_PREFIX } from './metrics.js';

/** Statuses that stay few (work in hand, or waiting for an admin): counting them walks small partial indexes. */
export const COUNTED_DELIVERY_STATUSES = ['pending', 'held', 'sending', 'dead'] as const;

/** A scrape waits this long for PostgreSQL, then answers without the database's gauges. */
const READ_TIMEOUT_MS = 2_500;
const STATEMENT_TIMEOUT_MS = 2_000;

interface Snapshot {
  deliveries: { channel: string; status: string; count: number }[];
  due: number;
  oldestDueAge: number | null;
  staleSources: number;
  staleRosterFeeds: number;
  escalationsOpen: number;
  oldestEscalationAge: number | null;
  heldDiffs: number;
  oldestHeldDiffAge: number | null;
}

/**
 * Gauges read from PostgreSQL when scraped: the same figures from every process, so a dashboard
 * takes max() over processes, never sum(). One statement under a statement timeout; each part is
 * an indexed count over rows that stay few (waiting or dead deliveries, open escalations, held
 * diffs, sources).
 */
@Injectable()
export class DatabaseGauges {
  private readonly logger = new Logger(DatabaseGauges.name);
  /** Apart from the process's metrics: when PostgreSQL cannot be read, these are left out rather than shown stale or zero. */
  readonly registry = new Registry();

  private readonly deliveries = this.gauge('deliveries', 'Deliveries waiting, being sent or dead, by channel and status', [
    'channel',
    'status',
  ]);
  private readonly due = this.gauge(
    'due_deliveries',
    'Deliveries due now and not yet claimed by a worker (pending or held past their due time)',
  );
  private readonly oldestDueAge = this.gauge(
    'oldest_due_delivery_age_seconds',
    'How long the longest-waiting due delivery has been due; 0 when none is due',
  );
  private readonly staleFeeds = this.gauge(
    'stale_feeds',
    'Feeds silent past their source’s expected interval: whole sources, and roster feeds per facility',
    ['kind'],
  );
  private readonly escalationsOpen = this.gauge('escalations_open', 'Escalations not yet resolved by staff');
  private readonly oldestEscalationAge = this.gauge(
    'oldest_open_escalation_age_seconds',
    'How long the oldest unresolved escalation has been open; 0 when none is',
  );
  private readonly heldDiffs = this.gauge('roster_diffs_held', 'Roster diffs held for an admin’s approval');
  private readonly oldestHeldDiffAge = this.gauge(
    'oldest_held_roster_diff_age_seconds',
    'How long the oldest held roster diff has waited; 0 when none is held',
  );

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Sets every gauge from one read; false when PostgreSQL could not be read in time. */
  async refresh(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const snapshot = await Promise.race([
        this.read(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('metrics read timed out')), READ_TIMEOUT_MS);
        }),
      ]);
      this.apply(snapshot);
      return true;
    } catch (error) {
      this.logger.warn({ err: loggableError(error) }, 'metrics scrape could not read the database');
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  private async read(): Promise<Snapshot> {
    const now = this.clock.now();
    return this.db.transaction(async (tx) => {
      await tx.query(`SET LOCAL statement_timeout = ${STATEMENT_TIMEOUT_MS}`);
      const rows: Snapshot[] = await tx.query(
        `SELECT
           (SELECT coalesce(json_agg(json_build_object('channel', channel, 'status', status, 'count', n)), '[]')
            FROM (SELECT channel, status, count(*)::int AS n FROM delivery WHERE status = ANY($2::text[]) GROUP BY channel, status) d) AS deliveries,
           (SELECT count(*)::int FROM delivery WHERE status IN ('pending', 'held') AND due_at <= $1::timestamptz) AS due,
           (SELECT extract(epoch FROM $1::timestamptz - min(due_at))::float8 FROM delivery
            WHERE status IN ('pending', 'held') AND due_at <= $1::timestamptz) AS "oldestDueAge",
           (SELECT count(*)::int FROM source s WHERE ${silent('coalesce(s.last_contact_at, s.created_at)')}) AS "staleSources",
           (SELECT count(*)::int FROM feed f JOIN source s ON s.id = f.source_id
            WHERE f.population_as_of IS NOT NULL AND ${silent('f.last_contact_at')}) AS "staleRosterFeeds",
           (SELECT count(*)::int FROM escalation WHERE resolved_at IS NULL) AS "escalationsOpen",
           (SELECT extract(epoch FROM $1::timestamptz - min(escalated_at))::float8 FROM escalation WHERE resolved_at IS NULL) AS "oldestEscalationAge",
           (SELECT count(*)::int FROM roster_snapshot WHERE status = 'held') AS "heldDiffs",
           (SELECT extract(epoch FROM $1::timestamptz - min(received_at))::float8 FROM roster_snapshot WHERE status = 'held') AS "oldestHeldDiffAge"`,
        [now, COUNTED_DELIVERY_STATUSES],
      );
      return rows[0];
    });
  }

  private apply(s: Snapshot): void {
    // Every channel and status is set, to zero when absent, so a series never vanishes when its queue empties.
    for (const channel of CHANNELS) for (const status of COUNTED_DELIVERY_STATUSES) this.deliveries.labels(channel, status).set(0);
    for (const row of s.deliveries) this.deliveries.labels(row.channel, row.status).set(row.count);
    this.due.set(s.due);
    this.oldestDueAge.set(Math.max(0, s.oldestDueAge ?? 0));
    this.staleFeeds.labels('source').set(s.staleSources);
    this.staleFeeds.labels('roster').set(s.staleRosterFeeds);
    this.escalationsOpen.set(s.escalationsOpen);
    this.oldestEscalationAge.set(Math.max(0, s.oldestEscalationAge ?? 0));
    this.heldDiffs.set(s.heldDiffs);
    this.oldestHeldDiffAge.set(Math.max(0, s.oldestHeldDiffAge ?? 0));
  }

  private gauge(name: string, help: string, labelNames: string[] = []): Gauge<string> {
    return new Gauge({ name: `${METRIC_PREFIX}${name}`, help, labelNames, registers: [this.registry] });
  }
}
