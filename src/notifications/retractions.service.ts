import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { DeliveryRepository } from '../database/delivery.repository.js';
import type { Queryable } from '../database/queryable.js';
import { REVOCATION_CHANNEL } from '../registrations/consent-revocation.js';

/**
 * What a CORRECTION stops, inside the transaction that records it: nothing more goes out about the
 * events it retracts. Their waiting deliveries, repeating calls and queued escalations stop (the
 * delivery repository's rule), their escalation watch is closed unfired, and the workers are told at
 * commit, so a batch already in hand withdraws what it has not sent yet (RevocationsService). A
 * delivery claimed meanwhile is refused when loaded (mayNotSend: the event is retracted), and one
 * loaded before is refused when its attempt would be written: the recorder has updated the retracted
 * events' rows before this runs and before planning, and a batch writes its attempts under a share
 * lock on them (DeliveryRepository.startAttempts), so planning sees every alert that may yet go out.
 */
@Injectable()
export class RetractionsService {
  constructor(
    private readonly clock: Clock,
    private readonly deliveries: DeliveryRepository,
  ) {}

  async retract(db: Queryable, eventIds: string[]): Promise<void> {
    if (!eventIds.length) return;
    const now = this.clock.now();
    await this.deliveries.suppressRetracted(db, eventIds, now);
    await db.query(
      `WITH closed AS (
         UPDATE escalation_watch SET checked_at = $2 WHERE event_id = ANY($1::uuid[]) AND checked_at IS NULL
       )
       SELECT pg_notify($3, json_build_object('eventId', id)::text) FROM unnest($1::uuid[]) AS retracted(id)`,
      [eventIds, now, REVOCATION_CHANNEL],
    );
  }
}
