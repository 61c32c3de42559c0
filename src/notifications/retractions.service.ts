import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import type { Queryable } from '../database/queryable.js';
import { REVOCATION_CHANNEL } from '../registrations/consent-revocation.js';

/**
 * What a CORRECTION stops, inside the transaction that records it: nothing more goes out about the
 * events it retracts. Their waiting (pending, held, retrying) deliveries end suppressed, their
 * repeating calls stop, their escalation watch is closed unfired (an escalation already queued for
 * staff is suppressed), and the workers are told at
 * commit, so a batch already in hand withdraws what it has not sent yet (RevocationsService). A
 * delivery claimed meanwhile is refused when loaded (mayNotSend: the event is retracted).
 */
@Injectable()
export class RetractionsService {
  constructor(private readonly clock: Clock) {}

  async retract(db: Queryable, eventIds: string[]): Promise<void> {
    if (!eventIds.length) return;
    await db.query(
      `WITH stopped AS (
         UPDATE delivery d SET status = CASE WHEN d.status IN ('pending', 'held') THEN 'suppressed' ELSE d.status END,
                repeat_until = NULL, updated_at = $2
         FROM notification n
         WHERE n.event_id = ANY($1::uuid[]) AND d.notification_id = n.id
           AND (d.status IN ('pending', 'held') OR d.repeat_until IS NOT NULL)
       ), closed AS (
         UPDATE escalation_watch SET checked_at = $2 WHERE event_id = ANY($1::uuid[]) AND checked_at IS NULL
       ), unescalated AS (
         -- An escalation that fired but has not reached staff yet is not sent either.
         UPDATE delivery d SET status = 'suppressed', updated_at = $2
         FROM notification n
         WHERE n.event_id = ANY($1::uuid[]) AND d.purpose = 'staff' AND d.status IN ('pending', 'held')
           AND d.payload ->> 'kind' = 'escalation' AND d.payload ->> 'notificationId' = n.id::text
       )
       SELECT pg_notify($3, json_build_object('eventId', id)::text) FROM unnest($1::uuid[]) AS retracted(id)`,
      [eventIds, this.clock.now(), REVOCATION_CHANNEL],
    );
  }
}
