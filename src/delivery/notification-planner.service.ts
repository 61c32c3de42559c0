import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { Clock } from '../common/clock.js';
import type { Queryable } from '../database/queryable.js';
import type { NotificationPlanner } from '../ingestion/notification-planner.js';
import { URGENT_EVENT_TYPES } from '../people/custody-status.js';
import { DELIVERY_CHANNEL } from '../registrations/verification.service.js';

/**
 * Matching and fan-out, inside the ingestion transaction: one notification per event ×
 * registration that wants this type, one delivery per verified, not opted-out contact. Events
 * with a notification block (baseline, suppressed facility, protected person, minor) plan nothing;
 * a CORRECTION goes to everyone who was notified of the event it corrects. One statement.
 */
@Injectable()
export class NotificationPlannerService implements NotificationPlanner {
  constructor(
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async plan(db: Queryable, eventIds: string[]): Promise<Map<string, number>> {
    if (!eventIds.length) return new Map();
    const rows: { event_id: string; notifications: number }[] = await db.query(
      `WITH ev AS (
         SELECT e.id, e.type, e.person_id, e.corrects_event_id FROM custody_event e
         WHERE e.id = ANY($1::uuid[]) AND e.notification_block IS NULL
       ), targets AS (
         SELECT ev.id AS event_id, r.id AS registration_id, 'alert' AS kind, ev.type = ANY($3::text[]) AS urgent
         FROM ev JOIN registration r ON r.person_id = ev.person_id AND r.status = 'active'
         WHERE ev.type <> 'CORRECTION' AND (r.event_types IS NULL OR ev.type = ANY(r.event_types))
         UNION ALL
         -- A correction is as urgent as what it corrects: a false release alert is withdrawn at once, quiet hours or not.
         SELECT ev.id, n.registration_id, 'correction', bool_or(n.urgent)
         FROM ev JOIN notification n ON n.event_id = ev.corrects_event_id
         JOIN registration r ON r.id = n.registration_id AND r.status = 'active'
         WHERE ev.type = 'CORRECTION'
         GROUP BY ev.id, n.registration_id
       ), notified AS (
         -- Time-ordered ids in key order: the rows append to the indexes instead of scattering over them.
         INSERT INTO notification (id, event_id, registration_id, kind, urgent, created_at)
         SELECT time_ordered_uuid(), event_id, registration_id, kind, urgent, $2 FROM targets ORDER BY event_id, registration_id
         ON CONFLICT (event_id, registration_id) DO NOTHING
         RETURNING id, event_id, registration_id, urgent, kind
       ), planned AS (
         INSERT INTO delivery (id, purpose, notification_id, contact_id, channel, due_at, created_at, updated_at, repeat_until)
         SELECT time_ordered_uuid(), 'alert', n.id, c.id, c.channel, $2, $2, $2,
                CASE WHEN n.urgent AND n.kind = 'alert' AND c.channel = 'voice' THEN $2::timestamptz + make_interval(mins => $4) END
         FROM notified n JOIN contact c ON c.registration_id = n.registration_id
         WHERE c.verified_at IS NOT NULL AND c.unsubscribed_at IS NULL
           AND NOT (c.channel = 'sms' AND EXISTS (SELECT 1 FROM phone_opt_out o WHERE o.address_index = c.address_index))
         RETURNING notification_id
       ), watched AS (
         -- Urgent alerts not confirmed or delivered in time escalate to staff: one watch per event.
         INSERT INTO escalation_watch (event_id, planned_at)
         SELECT DISTINCT event_id, $2::timestamptz FROM notified WHERE urgent
         ON CONFLICT (event_id) DO NOTHING
       )
       -- A data-modifying WITH runs to completion even when nothing reads it (planned, watched).
       SELECT event_id, count(*)::int AS notifications FROM notified GROUP BY event_id`,
      [eventIds, this.clock.now(), URGENT_EVENT_TYPES, Math.round(this.config.voice.repeatHours * 60)],
    );
    if (rows.length) await db.query(`SELECT pg_notify($1, 'due')`, [DELIVERY_CHANNEL]);
    return new Map(rows.map((row) => [row.event_id, row.notifications]));
  }
}
