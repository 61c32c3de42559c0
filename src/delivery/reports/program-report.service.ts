import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../common/clock.js';
import { SERVICE_KINDS } from '../../i18n/alerts.js';
import { ROLLUP_ORDER } from '../ledger.service.js';
import { isoDate, type ReportPeriod } from './report-period.js';
import {
  alertStatusCells,
  deliveryCell,
  type Cell,
  cell,
  groupCells,
  SMALL_CELL_THRESHOLD,
  statistic,
  SUPPRESSED,
  urgentCells,
  type UrgentCells,
  WITHHELD,
} from './small-cells.js';

type Withheld = number | typeof SUPPRESSED | null;

export interface ProgramReport {
  period: { from: string; to: string; timeZone: 'UTC' };
  suppression: { threshold: number; marker: typeof SUPPRESSED; complementMarker: typeof WITHHELD };
  registrations: {
    self: Cell;
    enrolled: Cell;
    stopped: Cell;
    byLanguage: { language: string; self: Cell; enrolled: Cell }[];
    byChannel: { channel: string; self: Cell; enrolled: Cell }[];
  };
  personsFollowed: Cell;
  events: { source: string; type: string; count: Cell }[];
  alerts: { total: Cell; urgent: Cell; corrections: Cell; byStatus: { status: string; count: Cell }[] };
  deliveries: { channel: string; status: string; count: Cell }[];
  urgentAlerts: UrgentCells;
  eventToFirstAttempt: { alerts: Cell; medianSeconds: Withheld; p95Seconds: Withheld };
  escalations: { count: Cell; resolved: Cell; medianMinutesToResolve: Withheld; p95MinutesToResolve: Withheld };
  feedOutages: { source: string; outages: Cell; staleMinutes: number }[];
  heldRosters: { held: Cell; approved: Cell; discarded: Cell };
  optOuts: { stops: Cell; unsubscribes: Cell };
  /** Directory entries specialists shared with victims, by kind (every kind, 0 included): where the office's resource needs lie. */
  servicesShared: { kind: string; count: Cell }[];
}

const count = (rows: { n: number }[]) => rows[0]?.n ?? 0;

/**
 * A program report for a period, the way a victim-assistance office reports to its funder: counts
 * and rates only, small cells withheld (small-cells.ts), never a person, an address or an id.
 * Each figure is dated by its own moment: a registration, contact or opt-out when made, an event
 * when it happened, an alert when planned (with its deliveries), an escalation when raised and its
 * resolution when made, a held
 * roster when received and its decision when made.
 */
@Injectable()
export class ProgramReportService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async report(period: ReportPeriod): Promise<ProgramReport> {
    const p = [period.from, period.to];
    const q = <T>(sql: string, params: unknown[] = p) => this.db.query<T[]>(sql, params);
    const [registrations, byLanguage, byChannel, stopped, followed, events, alerts, deliveries, urgent, latency, escalations] =
      await Promise.all([
        q<{ enrolled: boolean; n: number }>(
          `SELECT enrolled_by IS NOT NULL AS enrolled, count(*)::int AS n FROM registration
           WHERE created_at >= $1 AND created_at < $2 GROUP BY 1`,
        ),
        q<{ language: string; enrolled: boolean; n: number }>(
          `SELECT language, enrolled_by IS NOT NULL AS enrolled, count(*)::int AS n FROM registration
           WHERE created_at >= $1 AND created_at < $2 GROUP BY 1, 2 ORDER BY 1`,
        ),
        q<{ channel: string; enrolled: boolean; n: number }>(
          `SELECT c.channel, r.enrolled_by IS NOT NULL AS enrolled, count(*)::int AS n
           FROM contact c JOIN registration r ON r.id = c.registration_id
           WHERE r.created_at >= $1 AND r.created_at < $2 GROUP BY 1, 2 ORDER BY 1`,
        ),
        q<{ n: number }>(`SELECT count(*)::int AS n FROM registration WHERE stopped_at >= $1 AND stopped_at < $2`),
        // Followed at any time in the period: registered before its end, not stopped or expired before its start.
        q<{ n: number }>(
          `SELECT count(DISTINCT person_id)::int AS n FROM registration
           WHERE created_at < $2 AND coalesce(stopped_at, 'infinity') >= $1
             AND (status <> 'expired' OR coalesce(expires_at, 'infinity') >= $1)`,
        ),
        q<{ source: string; type: string; n: number }>(
          `SELECT s.name AS source, e.type, count(*)::int AS n FROM custody_event e JOIN source s ON s.id = e.source_id
           WHERE e.occurred_at >= $1 AND e.occurred_at < $2 GROUP BY 1, 2 ORDER BY 1, 2`,
        ),
        // The notification row keeps no status of its own: an alert is as far along as its furthest delivery (the ledger's roll-up).
        q<{ kind: string; urgent: boolean; status: string; n: number }>(
          `SELECT kind, urgent, status, count(*)::int AS n FROM (
             SELECT n.kind, n.urgent, coalesce(($3::text[])[max(array_position($3::text[], d.status))], 'suppressed') AS status
             FROM notification n LEFT JOIN delivery d ON d.notification_id = n.id
             WHERE n.created_at >= $1 AND n.created_at < $2 GROUP BY n.id
           ) rolled GROUP BY 1, 2, 3`,
          [...p, ROLLUP_ORDER],
        ),
        q<{ channel: string; status: string; n: number }>(
          `SELECT d.channel, d.status, count(*)::int AS n FROM delivery d JOIN notification n ON n.id = d.notification_id
           WHERE d.purpose = 'alert' AND n.kind = 'alert' AND n.created_at >= $1 AND n.created_at < $2 GROUP BY 1, 2 ORDER BY 1, 2`,
        ),
        // Reached as the escalation watch counts it: a delivery report or a PIN, not only a provider's acceptance.
        q<{ total: number; reached: number; confirmed: number }>(
          `SELECT count(*)::int AS total,
                  count(*) FILTER (WHERE EXISTS (SELECT 1 FROM delivery d WHERE d.notification_id = n.id AND d.status IN ('delivered', 'confirmed')))::int AS reached,
                  count(*) FILTER (WHERE EXISTS (SELECT 1 FROM delivery d WHERE d.notification_id = n.id AND d.status = 'confirmed'))::int AS confirmed
           FROM notification n WHERE n.kind = 'alert' AND n.urgent AND n.created_at >= $1 AND n.created_at < $2`,
        ),
        // Planned in the same transaction that recorded the event, so the plan's time is the event's arrival.
        q<{ n: number; median: number | null; p95: number | null }>(
          `WITH firsts AS (
             SELECT extract(epoch FROM min(a.started_at) - n.created_at)::float8 AS seconds
             FROM notification n JOIN delivery d ON d.notification_id = n.id JOIN delivery_attempt a ON a.delivery_id = d.id
             WHERE n.kind = 'alert' AND n.created_at >= $1 AND n.created_at < $2 GROUP BY n.id
           )
           SELECT count(*)::int AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median,
                  percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds) AS p95 FROM firsts`,
        ),
        q<{ n: number }>(`SELECT count(*)::int AS n FROM notification WHERE escalated_at >= $1 AND escalated_at < $2`),
      ]);
    // A resolution is dated when made, like a held roster's decision; its time runs from the escalation.
    const [resolutions] = await q<{ n: number; median: number | null; p95: number | null }>(
      `SELECT count(*)::int AS n,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - escalated_at) / 60) AS median,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - escalated_at) / 60) AS p95
       FROM escalation WHERE resolved_at >= $1 AND resolved_at < $2`,
    );
    const [outages, held, optOuts, shared] = await Promise.all([
      this.feedOutages(period),
      q<{ held: number; approved: number; discarded: number }>(
        `SELECT count(*) FILTER (WHERE received_at >= $1 AND received_at < $2)::int AS held,
                count(*) FILTER (WHERE status = 'approved' AND decided_at >= $1 AND decided_at < $2)::int AS approved,
                count(*) FILTER (WHERE status = 'discarded' AND decided_at >= $1 AND decided_at < $2)::int AS discarded
         FROM roster_snapshot WHERE status IN ('held', 'approved', 'discarded')`,
      ),
      q<{ stops: number; unsubscribes: number }>(
        `SELECT (SELECT count(*) FROM phone_opt_out WHERE opted_out_at >= $1 AND opted_out_at < $2)::int AS stops,
                (SELECT count(*) FROM contact WHERE unsubscribed_at >= $1 AND unsubscribed_at < $2)::int AS unsubscribes`,
      ),
      // A share is counted when made, whether or not a contact could receive it: it measures the need, not the delivery.
      q<{ kind: string; n: number }>(
        `SELECT message->'service'->>'kind' AS kind, count(*)::int AS n FROM notification
         WHERE kind = 'service' AND created_at >= $1 AND created_at < $2 GROUP BY 1`,
      ),
    ]);

    const self = (rows: { enrolled: boolean; n: number }[]) => rows.filter((r) => !r.enrolled).reduce((sum, r) => sum + r.n, 0);
    const enrolled = (rows: { enrolled: boolean; n: number }[]) => rows.filter((r) => r.enrolled).reduce((sum, r) => sum + r.n, 0);
    // By language, each registration counts once, so a column adds up to its published total and a
    // lone small cell needs a partner withheld; by channel a registration may count several times.
    const split = <K extends string>(key: K, rows: ({ enrolled: boolean; n: number } & Record<K, string>)[], additive: boolean) => {
      const values = [...new Set(rows.map((r) => r[key]))];
      const column = (of: typeof self) => {
        const counts = values.map((value) => of(rows.filter((r) => r[key] === value)));
        return additive ? groupCells(counts, cell(of(rows))) : counts.map(cell);
      };
      const [selfCells, enrolledCells] = [column(self), column(enrolled)];
      return values.map(
        (value, i) =>
          ({ [key]: value, self: selfCells[i], enrolled: enrolledCells[i] }) as Record<K, string> & { self: Cell; enrolled: Cell },
      );
    };
    const alertRows = alerts.filter((a) => a.kind === 'alert');
    const sum = (rows: { n: number }[]) => rows.reduce((total, r) => total + r.n, 0);
    const statuses = [...new Set(alertRows.map((a) => a.status))].sort();
    const u = urgent[0] ?? { total: 0, reached: 0, confirmed: 0 };
    const urgentAlerts = urgentCells(u.total, u.reached, u.confirmed);
    const statusCells = alertStatusCells(
      statuses,
      statuses.map((status) => sum(alertRows.filter((a) => a.status === status))),
      urgentAlerts,
    );
    const l = latency[0] ?? { n: 0, median: null, p95: null };
    const tenths = (value: number | null) => (value === null ? null : Math.round(value * 10) / 10);

    return {
      period: { from: isoDate(period.from), to: isoDate(period.to), timeZone: 'UTC' },
      suppression: { threshold: SMALL_CELL_THRESHOLD, marker: SUPPRESSED, complementMarker: WITHHELD },
      registrations: {
        self: cell(self(registrations)),
        enrolled: cell(enrolled(registrations)),
        stopped: cell(count(stopped)),
        byLanguage: split('language', byLanguage, true),
        byChannel: split('channel', byChannel, false),
      },
      personsFollowed: cell(count(followed)),
      events: events.map((e) => ({ source: e.source, type: e.type, count: cell(e.n) })),
      alerts: {
        total: cell(sum(alertRows)),
        urgent: cell(sum(alertRows.filter((a) => a.urgent))),
        corrections: cell(sum(alerts.filter((a) => a.kind === 'correction'))),
        byStatus: statusCells.map((count, i) => ({ status: statuses[i], count })),
      },
      deliveries: deliveries.map((d) => ({ channel: d.channel, status: d.status, count: deliveryCell(d.status, d.n, urgentAlerts) })),
      urgentAlerts,
      eventToFirstAttempt: {
        alerts: cell(l.n),
        medianSeconds: statistic(tenths(l.median), l.n),
        p95Seconds: statistic(tenths(l.p95), l.n),
      },
      escalations: {
        count: cell(count(escalations)),
        resolved: cell(resolutions.n),
        medianMinutesToResolve: statistic(tenths(resolutions.median), resolutions.n),
        p95MinutesToResolve: statistic(tenths(resolutions.p95), resolutions.n),
      },
      feedOutages: outages,
      heldRosters: { held: cell(held[0].held), approved: cell(held[0].approved), discarded: cell(held[0].discarded) },
      optOuts: { stops: cell(optOuts[0].stops), unsubscribes: cell(optOuts[0].unsubscribes) },
      // No total beside the kinds: with one, a withheld kind could be worked out by subtraction.
      servicesShared: [...new Set([...SERVICE_KINDS, ...shared.map((r) => r.kind)])].map((kind) => ({
        kind,
        count: cell(shared.find((r) => r.kind === kind)?.n ?? 0),
      })),
    };
  }

  /**
   * Per source: outages that began in the period, and the minutes it was stale within the period
   * (an outage still open counts up to now). A facility's roster feed going quiet is not the source's outage.
   */
  private async feedOutages(period: ReportPeriod): Promise<ProgramReport['feedOutages']> {
    const rows: { source: string; outages: number; staleSeconds: number }[] = await this.db.query(
      `WITH alerts AS (
         SELECT source_id, kind, created_at, lead(created_at) OVER (PARTITION BY source_id ORDER BY created_at, kind DESC) AS next_at
         FROM feed_alert WHERE facility_id IS NULL
       ), spans AS (
         SELECT source_id, created_at AS began, coalesce(next_at, $3) AS ended FROM alerts WHERE kind = 'stale'
       )
       SELECT s.name AS source,
              count(*) FILTER (WHERE sp.began >= $1 AND sp.began < $2)::int AS outages,
              coalesce(sum(greatest(0, extract(epoch FROM least(sp.ended, $2) - greatest(sp.began, $1)))), 0)::float8 AS "staleSeconds"
       FROM spans sp JOIN source s ON s.id = sp.source_id
       WHERE sp.began < $2 AND sp.ended > $1
       GROUP BY s.name ORDER BY s.name`,
      [period.from, period.to, this.clock.now()],
    );
    return rows.map((r) => ({ source: r.source, outages: cell(r.outages), staleMinutes: Math.round(r.staleSeconds / 60) }));
  }
}
