import { Injectable } from '@nestjs/common';
import type { Queryable } from '../database/queryable.js';
import { type EventType, STATUS_AFTER, STATUS_AFTER_SQL, STATUS_EVENT_TYPES } from './custody-status.js';

export interface StatusChange {
  eventId: string;
  personId: string;
  type: EventType;
  occurredAt: Date;
  facilityId: string;
  toFacilityId: string | null;
}

/**
 * Custody status is a state machine ordered by occurredAt: an event moves a person only if it is
 * at least as recent as what set the current status, so a late, older event is recorded (and
 * notified) but never rolls the status back.
 */
@Injectable()
export class PersonStatusService {
  /** Applies the newest status-changing event per person, set-based. Later items win ties. */
  async apply(db: Queryable, changes: StatusChange[]): Promise<void> {
    const newest = new Map<string, StatusChange>();
    for (const change of changes) {
      if (!STATUS_AFTER[change.type]) continue;
      const current = newest.get(change.personId);
      if (!current || change.occurredAt.getTime() >= current.occurredAt.getTime()) newest.set(change.personId, change);
    }
    if (!newest.size) return;
    const rows = [...newest.values()];
    await db.query(
      `UPDATE person p SET custody_status = v.status, facility_id = v.facility_id, status_as_of = v.occurred_at,
              status_event_id = v.event_id, updated_at = now()
       FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::timestamptz[], $5::uuid[]) v(person_id, status, facility_id, occurred_at, event_id)
       WHERE p.id = v.person_id AND (p.status_as_of IS NULL OR v.occurred_at >= p.status_as_of)`,
      [
        rows.map((r) => r.personId),
        rows.map((r) => STATUS_AFTER[r.type]),
        rows.map((r) => (r.type === 'TRANSFERRED' ? r.toFacilityId : r.facilityId)),
        rows.map((r) => r.occurredAt),
        rows.map((r) => r.eventId),
      ],
    );
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
