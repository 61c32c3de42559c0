import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { Clock } from '../common/clock.js';
import { namedWhenSmall, type Queryable } from '../database/queryable.js';
import { URGENT_EVENT_TYPES } from '../people/custody-status.js';
import { DELIVERY_CHANNEL } from '../database/delivery.repository.js';
import { Metrics } from '../metrics/metrics.js';

/**
 * The one call that ends every ingestion transaction: matching and fan-out for the events just
 * recorded, inside the same transaction, so an acknowledged event always has its deliveries
 * (invariant 1): one notification per event ×
 * registration that wants this type, one delivery per verified, not opted-out contact. Events
 * with a notification block (baseline, suppressed facility, protected person, minor) plan nothing;
 * a CORRECTION goes to each contact that was sent something about the event it corrects (see
 * RetractionsService for what it stops). One statement.
 */
/**
 * A delivery that was sent something: a provider accepted one of its attempts, or one is at the
 * provider now (its outcome not yet recorded), which may yet be accepted.
 */
const SENT = `EXISTS (SELECT 1 FROM delivery_attempt a WHERE a.delivery_id = d.id AND (a.outcome = 'accepted' OR a.outcome IS NULL))`;

@Injectable()
export class NotificationPlannerService {
  constructor(
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  /** Returns, per event id, how many notifications were planned. */
  async plan(db: Queryable, eventIds: string[]): Promise<Map<string, number>> {
    if (!eventIds.length) return new Map();
    const stopTimer = this.metrics.planningDuration.startTimer();
    // The planner cannot see how many registrations an event fans out to (~500 estimated for a crowd
    // of 100,000), so it puts a cache in front of the contact lookups that never hits: one entry per
    // registration, ~15 % of a large fan-out. Off for the rest of this transaction only.
    await db.query(`SET LOCAL enable_memoize = off`);
    const rows: { eventId: string; notifications: number }[] = await db.query(
      namedWhenSmall(
        'vigil_plan_notifications',
        `WITH ev AS (
         SELECT e.id, e.type, e.person_id, e.corrects_event_id FROM custody_event e
         -- A retracted event (its CORRECTION came in the same transaction, or before) alerts nobody.
         WHERE e.id = ANY($1::uuid[]) AND e.notification_block IS NULL AND e.retracted_by_event_id IS NULL
       ), targets AS (
         SELECT ev.id AS event_id, r.id AS registration_id, 'alert' AS kind, ev.type = ANY($3::text[]) AS urgent
         FROM ev JOIN registration r ON r.person_id = ev.person_id AND r.status = 'active'
         WHERE ev.type <> 'CORRECTION' AND (r.event_types IS NULL OR ev.type = ANY(r.event_types))
         UNION ALL
         -- A correction is as urgent as what it corrects: a false release alert is withdrawn at once, quiet hours or not, and
         -- staff hear of it when nobody received it in time (as a correction: StaffAlertsService).
         SELECT ev.id, n.registration_id, 'correction', bool_or(n.urgent)
         FROM ev JOIN notification n ON n.event_id = ev.corrects_event_id
         JOIN registration r ON r.id = n.registration_id AND r.status = 'active'
         WHERE ev.type = 'CORRECTION' AND EXISTS (SELECT 1 FROM delivery d WHERE d.notification_id = n.id AND ${SENT})
         GROUP BY ev.id, n.registration_id
       ), run AS MATERIALIZED (
         -- Time-ordered ids in insertion order, so the rows append to the indexes instead of scattering
         -- over them: one random start per table, then consecutive (a fifth of the cost of a uuidv7() each).
         SELECT time_ordered_uuid() AS notifications, time_ordered_uuid() AS deliveries
       ), notified AS (
         -- No ON CONFLICT: every event is planned once, by the transaction that recorded it; the unique
         -- (event, registration) key still refuses a second plan, loudly.
         INSERT INTO notification (id, event_id, registration_id, kind, urgent, created_at)
         SELECT uuid_run(run.notifications, row_number() OVER (ORDER BY event_id, registration_id)), event_id, registration_id, kind, urgent, $2
         FROM targets CROSS JOIN run ORDER BY event_id, registration_id
         RETURNING id, event_id, registration_id, urgent, kind
       ), planned AS (
         INSERT INTO delivery (id, purpose, notification_id, contact_id, channel, due_at, created_at, updated_at, repeat_until)
         SELECT uuid_run(run.deliveries, row_number() OVER ()), 'alert', n.id, c.id, c.channel, $2, $2, $2,
                CASE WHEN n.urgent AND n.kind = 'alert' AND c.channel = 'voice' THEN $2::timestamptz + make_interval(mins => $4) END
         FROM notified n JOIN contact c ON c.registration_id = n.registration_id CROSS JOIN run
         LEFT JOIN phone_opt_out o ON c.channel = 'sms' AND o.address_index = c.address_index
         WHERE n.kind = 'alert' AND c.verified_at IS NOT NULL AND c.unsubscribed_at IS NULL AND o.address_index IS NULL
       ), corrected AS (
         -- A correction goes to each contact that was sent something about the retracted event.
         INSERT INTO delivery (id, purpose, notification_id, contact_id, channel, due_at, created_at, updated_at)
         SELECT time_ordered_uuid(), 'alert', n.id, c.id, c.channel, $2, $2, $2
         FROM notified n JOIN ev ON ev.id = n.event_id JOIN contact c ON c.registration_id = n.registration_id
         LEFT JOIN phone_opt_out o ON c.channel = 'sms' AND o.address_index = c.address_index
         -- Gated once on the batch holding a correction: planning a crowd's alert never scans its notifications again.
         WHERE EXISTS (SELECT 1 FROM ev WHERE ev.type = 'CORRECTION')
           AND n.kind = 'correction' AND c.verified_at IS NOT NULL AND c.unsubscribed_at IS NULL AND o.address_index IS NULL
           AND EXISTS (SELECT 1 FROM notification r JOIN delivery d ON d.notification_id = r.id
                       WHERE r.event_id = ev.corrects_event_id AND r.registration_id = n.registration_id AND d.contact_id = c.id AND ${SENT})
       ), watched AS (
         -- Urgent alerts not confirmed or delivered in time escalate to staff: one watch per event.
         INSERT INTO escalation_watch (event_id, planned_at)
         SELECT DISTINCT event_id, $2::timestamptz FROM notified WHERE urgent
         ON CONFLICT (event_id) DO NOTHING
       )
       -- A data-modifying WITH runs to completion even when nothing reads it (planned, corrected, watched). The
       -- workers are woken (at commit) once, and only when something was planned.
       SELECT event_id AS "eventId", count(*)::int AS notifications, (SELECT 1 FROM pg_notify($5, 'due')) AS announced
       FROM notified GROUP BY event_id`,
        eventIds.length,
      ),
      [eventIds, this.clock.now(), URGENT_EVENT_TYPES, Math.round(this.config.voice.repeatHours * 60), DELIVERY_CHANNEL],
    );
    stopTimer();
    return new Map(rows.map((row) => [row.eventId, row.notifications]));
  }
}
