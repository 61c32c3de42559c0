import { Injectable } from '@nestjs/common';
import type { Queryable } from '../database/queryable.js';
import { STATUS_AFTER_SQL, STATUS_EVENT_TYPES } from './custody-status.js';

/**
 * Custody status is a state machine ordered by occurredAt: an event moves a person only if it is
 * at least as recent as what set the current status, so a late, older event is recorded (and
 * notified) but never rolls the status back.
 */
@Injectable()
export class PersonStatusService {
  /**
   * An UPDATE, to run as a WITH item, that applies the newest status-changing row per person of
   * `changes` (a relation with event_id, person_id, type, occurred_at, facility_id, to_facility_id
   * and n, the row's place in its batch): later rows win ties. The events' own INSERT feeds it in the
   * same statement, so recording a group of events and moving its persons cost one round trip.
   */
  applyFrom(changes: string): string {
    return `UPDATE person p SET custody_status = v.status, facility_id = v.facility_id, status_as_of = v.occurred_at,
              status_event_id = v.event_id, updated_at = now()
       FROM (SELECT DISTINCT ON (e.person_id) e.person_id, ${STATUS_AFTER_SQL} AS status, e.occurred_at, e.event_id,
                    CASE WHEN e.type = 'TRANSFERRED' THEN e.to_facility_id ELSE e.facility_id END AS facility_id
             FROM ${changes} e WHERE e.type IN (${STATUS_EVENT_TYPES.map((type) => `'${type}'`).join(', ')})
             ORDER BY e.person_id, e.occurred_at DESC, e.n DESC) v
       WHERE p.id = v.person_id AND (p.status_as_of IS NULL OR v.occurred_at >= p.status_as_of)`;
  }

  /** Recomputes from the person's events that still stand (after a correction or a merge). */
  async recompute(db: Queryable, personIds: string[]): Promise<void> {
    if (!personIds.length) return;
    await db.query(
      `UPDATE person p SET custody_status = coalesce(l.status, 'UNKNOWN'), facility_id = l.facility_id,
              status_as_of = l.occurred_at, status_event_id = l.id, updated_at = now()
       FROM unnest($1::uuid[]) AS target(id)
       LEFT JOIN LATERAL (
         SELECT e.id, ${STATUS_AFTER_SQL} AS status, e.occurred_at,
                CASE WHEN e.type = 'TRANSFERRED' THEN e.to_facility_id ELSE e.facility_id END AS facility_id
         FROM custody_event e
         WHERE e.person_id = target.id AND e.retracted_by_event_id IS NULL AND e.type = ANY($2)
         ORDER BY e.occurred_at DESC, e.received_at DESC, e.id DESC
         LIMIT 1
       ) l ON true
       WHERE p.id = target.id`,
      [personIds, STATUS_EVENT_TYPES],
    );
  }
}
