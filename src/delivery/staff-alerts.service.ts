import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { Queryable } from '../database/queryable.js';
import { DELIVERY_CHANNEL } from '../database/delivery.repository.js';
import { FeedHealthService, type FeedTransition } from '../sources/feed-health.service.js';

/** Events checked per statement: a crowded release can escalate a great many notifications at once. */
const ESCALATION_EVENTS_PER_PASS = 50;

/**
 * Messages to staff through the same pipeline and ledger: an urgent alert that nobody confirmed
 * or received goes to the enrolling specialist (else every admin), and so does the correction of
 * one, in its own words (the victim may still believe the false alert); a stale or recovered feed
 * goes to every admin, once per transition.
 */
@Injectable()
export class StaffAlertsService implements OnModuleInit {
  private readonly logger = new Logger(StaffAlertsService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly feeds: FeedHealthService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.feeds.onTransition((transitions, db) => this.feedAlerts(transitions, db));
  }

  /**
   * Flags and escalates each overdue urgent notification exactly once, whichever worker gets there
   * first: each due watch (an event that planned urgent notifications) is checked once, locked by
   * the worker that checks it.
   */
  async escalate(): Promise<number> {
    let escalated = 0;
    for (;;) {
      const now = this.clock.now();
      const rows: { escalated: number; events: number }[] = await this.db.query(
        `WITH watched AS (
           SELECT event_id FROM escalation_watch
           WHERE checked_at IS NULL AND planned_at <= $1::timestamptz - make_interval(mins => $2)
           ORDER BY planned_at LIMIT $4 FOR UPDATE SKIP LOCKED
         ), checked AS (
           UPDATE escalation_watch w SET checked_at = $1 FROM watched WHERE w.event_id = watched.event_id RETURNING w.event_id
         ), due AS (
           UPDATE notification n SET escalated_at = $1
           FROM watched
           WHERE n.event_id = watched.event_id AND n.urgent AND n.escalated_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.notification_id = n.id AND d.status IN ('delivered', 'confirmed'))
             -- A correction nobody was owed in the end (the alert it corrects never went out) is nothing to reach anyone about.
             AND (n.kind = 'alert' OR EXISTS (SELECT 1 FROM delivery d WHERE d.notification_id = n.id AND d.status <> 'suppressed'))
           RETURNING n.id, n.registration_id, n.event_id, n.kind
         ), opened AS (
           INSERT INTO escalation (id, escalated_at) SELECT id, $1 FROM due ON CONFLICT (id) DO NOTHING
         ), queued AS (
           -- A correction is told as the retracted alert it corrects (its type and time), never as an alert of its own.
           INSERT INTO delivery (purpose, staff_id, channel, payload, due_at, created_at, updated_at)
           SELECT 'staff', s.id, 'email',
                  json_build_object('kind', 'escalation', 'notificationId', due.id, 'registrationId', due.registration_id,
                                    'personName', p.first_name || ' ' || p.last_name, 'eventType', coalesce(x.type, e.type),
                                    'occurredAt', coalesce(x.occurred_at, e.occurred_at), 'correction', due.kind = 'correction'),
                  $1, $1, $1
           FROM due JOIN registration r ON r.id = due.registration_id
           JOIN custody_event e ON e.id = due.event_id JOIN person p ON p.id = e.person_id
           LEFT JOIN custody_event x ON due.kind = 'correction' AND x.id = e.corrects_event_id
           JOIN staff s ON NOT s.disabled AND (s.id = r.enrolled_by OR (s.role = 'admin'
                AND NOT EXISTS (SELECT 1 FROM staff x WHERE x.id = r.enrolled_by AND NOT x.disabled)))
           RETURNING id
         )
         SELECT (SELECT count(*) FROM due)::int AS escalated, (SELECT count(*) FROM checked)::int AS events,
                (SELECT pg_notify($3, 'due') WHERE EXISTS (SELECT 1 FROM queued)) AS announced`,
        [now, this.config.escalateAfterMinutes, DELIVERY_CHANNEL, ESCALATION_EVENTS_PER_PASS],
      );
      escalated += rows[0]?.escalated ?? 0;
      if ((rows[0]?.events ?? 0) < ESCALATION_EVENTS_PER_PASS) break;
    }
    if (escalated) this.logger.warn({ escalated }, 'urgent alerts not confirmed in time: escalated to staff');
    return escalated;
  }

  private async feedAlerts(transitions: FeedTransition[], db: Queryable): Promise<void> {
    const now = this.clock.now();
    await db.query(
      `INSERT INTO delivery (purpose, staff_id, channel, payload, due_at, created_at, updated_at)
       SELECT 'staff', s.id, 'email', t.payload, $2, $2, $2
       FROM staff s CROSS JOIN unnest($1::jsonb[]) AS t(payload)
       WHERE s.role = 'admin' AND NOT s.disabled`,
      [
        transitions.map((t) =>
          JSON.stringify({
            kind: 'feed',
            state: t.kind,
            sourceId: t.sourceId,
            sourceName: t.name,
            facilityCode: t.facility?.code ?? null,
            lastContactAt: t.lastContactAt?.toISOString() ?? null,
          }),
        ),
        now,
      ],
    );
    await db.query(`SELECT pg_notify($1, 'due')`, [DELIVERY_CHANNEL]);
  }
}
