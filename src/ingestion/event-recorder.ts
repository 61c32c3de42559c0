import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/problem/domain-error.js';
import { namedWhenSmall, type Queryable, returning } from '../database/queryable.js';
import type { EventType } from '../people/custody-status.js';
import { NotificationPlannerService } from '../notifications/notification-planner.service.js';
import { RetractionsService } from '../notifications/retractions.service.js';
import { PersonStatusService } from '../people/person-status.service.js';

export type NotificationBlock = 'baseline' | 'facility_suppressed' | 'person_protected' | 'minor';

/** Upstream clocks drift a little; an event further in the future than this is a data error. */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;

/** Under 18 at the time of the event (birthday counted). */
export function isMinorAt(dateOfBirth: string | null, at: Date): boolean {
  if (!dateOfBirth) return false;
  const [year, month, day] = dateOfBirth.split('-').map(Number);
  return at.getTime() < Date.UTC(year + 18, month - 1, day);
}

/** Why nobody may be told about an event, if anything: suppression, then protection, then age. */
export function notificationBlock(facilitySuppressed: boolean, personProtected: boolean, minor: boolean): NotificationBlock | null {
  if (facilitySuppressed) return 'facility_suppressed';
  if (personProtected) return 'person_protected';
  return minor ? 'minor' : null;
}

export interface NewEvent {
  sourceEventId: string;
  type: EventType;
  occurredAt: Date;
  personId: string;
  facilityId: string;
  toFacilityId: string | null;
  scheduledFor: Date | null;
  details: Record<string, unknown> | null;
  payload: unknown;
  bodyHash: Buffer;
  rosterSnapshotId: string | null;
  minor: boolean;
  block: NotificationBlock | null;
  /** Where a validation problem about this event points, e.g. `events[3]`. */
  path: string;
}

export interface RecordedEvent {
  sourceEventId: string;
  eventId: string;
  status: 'accepted' | 'duplicate' | 'conflict';
  notificationsPlanned: number;
}

/**
 * Writes events and everything that follows from them inside the caller's transaction: the rows
 * (idempotent on the unique (source, sourceEventId)), the custody status, corrections, and the
 * planned notifications. Set-based, so a batch of 1,000 costs a few statements.
 */
@Injectable()
export class EventRecorder {
  constructor(
    private readonly status: PersonStatusService,
    private readonly planner: NotificationPlannerService,
    private readonly retractions: RetractionsService,
  ) {}

  async record(db: Queryable, sourceId: string, events: NewEvent[]): Promise<RecordedEvent[]> {
    if (!events.length) return [];
    // One statement records the events and moves their persons' status. An event whose CORRECTION
    // came first (pending_correction_id) is recorded retracted and moves no status. It also says which
    // events may reach anyone (may_notify): most people in custody have nobody registered for them,
    // and their events then skip planning. Seen after this transaction's merges, which move
    // registrations; a registration committed later than this statement is one that came after the
    // event, as one committed after planning always was.
    const inserted: { id: string; sourceEventId: string; pendingCorrectionId: string | null; mayNotify: boolean }[] = await db.query(
      namedWhenSmall(
        'vigil_record_events',
        `WITH v AS (
         SELECT * FROM unnest($2::text[], $3::bytea[], $4::jsonb[], $5::text[], $6::timestamptz[], $7::uuid[], $8::uuid[],
                              $9::uuid[], $10::timestamptz[], $11::jsonb[], $12::uuid[], $13::boolean[], $14::text[]) WITH ORDINALITY
           AS v(source_event_id, body_hash, payload, type, occurred_at, person_id, facility_id, to_facility_id, scheduled_for, details,
                roster_snapshot_id, minor, notification_block, n)
       ), inserted AS (
         INSERT INTO custody_event AS ins (source_id, source_event_id, body_hash, payload, type, occurred_at, person_id, facility_id,
                                           to_facility_id, scheduled_for, details, roster_snapshot_id, minor, notification_block)
         SELECT $1, source_event_id, body_hash, payload, type, occurred_at, person_id, facility_id, to_facility_id, scheduled_for, details,
                roster_snapshot_id, minor, notification_block
         FROM v ORDER BY n
         ON CONFLICT (source_id, source_event_id) DO NOTHING
         RETURNING ins.id, ins.source_event_id,
                   -- A correction that came first, waiting for this event (looked for only when the source has one waiting).
                   CASE WHEN ins.type <> 'CORRECTION' AND (SELECT EXISTS (SELECT 1 FROM custody_event w WHERE ${PENDING_CORRECTION}))
                        THEN (SELECT w.id FROM custody_event w WHERE ${PENDING_CORRECTION} AND w.details ->> 'correctsSourceEventId' = ins.source_event_id
                              ORDER BY w.received_at, w.id LIMIT 1) END AS pending_correction_id,
                   -- A correction goes to those its event reached, whoever its own person is.
                   ins.notification_block IS NULL
                     AND (ins.type = 'CORRECTION' OR EXISTS (SELECT 1 FROM registration r WHERE r.person_id = ins.person_id AND r.status = 'active'))
                     AS may_notify
       ), changes AS (
         SELECT i.id AS event_id, v.person_id, v.type, v.occurred_at, v.facility_id, v.to_facility_id, v.n
         FROM inserted i JOIN v ON v.source_event_id = i.source_event_id WHERE i.pending_correction_id IS NULL
       ), status AS (${this.status.applyFrom('changes')})
       SELECT id, source_event_id AS "sourceEventId", pending_correction_id AS "pendingCorrectionId", may_notify AS "mayNotify"
       FROM inserted`,
        events.length,
      ),
      [
        sourceId,
        events.map((e) => e.sourceEventId),
        events.map((e) => e.bodyHash),
        events.map((e) => JSON.stringify(e.payload)),
        events.map((e) => e.type),
        events.map((e) => e.occurredAt),
        events.map((e) => e.personId),
        events.map((e) => e.facilityId),
        events.map((e) => e.toFacilityId),
        events.map((e) => e.scheduledFor),
        events.map((e) => (e.details ? JSON.stringify(e.details) : null)),
        events.map((e) => e.rosterSnapshotId),
        events.map((e) => e.minor),
        events.map((e) => e.block),
      ],
    );
    const idOf = new Map(inserted.map((row) => [row.sourceEventId, row.id]));

    // Lost a race with a concurrent request carrying the same event: the constraint decided, now classify.
    const raced = events.filter((e) => !idOf.has(e.sourceEventId));
    const existing = raced.length
      ? await findExisting(
          db,
          sourceId,
          raced.map((e) => e.sourceEventId),
        )
      : new Map<string, ExistingEvent>();

    const accepted = events.filter((e) => idOf.has(e.sourceEventId));
    await this.applyPendingCorrections(db, inserted);
    await this.applyCorrections(
      db,
      sourceId,
      accepted.filter((e) => e.type === 'CORRECTION').map((e) => ({ event: e, eventId: idOf.get(e.sourceEventId)! })),
    );
    const planned = await this.planner.plan(
      db,
      inserted.filter((row) => row.mayNotify).map((row) => row.id),
    );

    return events.map((event) => {
      const eventId = idOf.get(event.sourceEventId);
      if (eventId)
        return { sourceEventId: event.sourceEventId, eventId, status: 'accepted', notificationsPlanned: planned.get(eventId) ?? 0 };
      const prior = existing.get(event.sourceEventId)!;
      return {
        sourceEventId: event.sourceEventId,
        eventId: prior.id,
        status: prior.bodyHash.equals(event.bodyHash) ? 'duplicate' : 'conflict',
        notificationsPlanned: 0,
      };
    });
  }

  /**
   * Events whose CORRECTION came first are recorded retracted: they alert nobody (planning skips
   * them) and, left out of their INSERT's status update, move no status.
   */
  private async applyPendingCorrections(
    db: Queryable,
    inserted: { id: string; sourceEventId: string; pendingCorrectionId: string | null }[],
  ): Promise<void> {
    const pending = inserted.filter((row) => row.pendingCorrectionId);
    if (!pending.length) return;
    await db.query(
      `WITH v AS (SELECT * FROM unnest($1::uuid[], $2::uuid[]) AS v(id, correction_id)), retracted AS (
         UPDATE custody_event e SET retracted_by_event_id = v.correction_id FROM v WHERE e.id = v.id
       )
       UPDATE custody_event c SET corrects_event_id = v.id FROM v WHERE c.id = v.correction_id`,
      [pending.map((row) => row.id), pending.map((row) => row.pendingCorrectionId)],
    );
  }

  /**
   * A CORRECTION retracts an event of the same source; the person's status is recomputed without
   * it. One whose event Vigil does not have yet waits for it (see applyPendingCorrections).
   */
  private async applyCorrections(db: Queryable, sourceId: string, corrections: { event: NewEvent; eventId: string }[]): Promise<void> {
    if (!corrections.length) return;
    const targetIds = corrections.map(({ event }) => String(event.details!.correctsSourceEventId));
    const targets: { id: string; sourceEventId: string; personId: string; type: string }[] = await db.query(
      `SELECT id, source_event_id AS "sourceEventId", person_id AS "personId", type FROM custody_event WHERE source_id = $1 AND source_event_id = ANY($2)`,
      [sourceId, targetIds],
    );
    const bySourceEventId = new Map(targets.map((t) => [t.sourceEventId, t]));
    // Corrections whose event Vigil has; the others wait for it.
    const found = corrections.flatMap((correction, i) => {
      const target = bySourceEventId.get(targetIds[i]);
      return target ? [{ correction, target }] : [];
    });
    const problems = found
      .filter(({ target }) => target.type === 'CORRECTION')
      .map(({ correction }) => ({
        path: `${correction.event.path}details.correctsSourceEventId`,
        message: 'a correction cannot be corrected',
      }));
    if (problems.length)
      throw new DomainError('invalid', 'CORRECTION_TARGET_UNKNOWN', 'A correction names an event it cannot correct.', {
        errors: problems,
      });
    if (!found.length) return;
    await db.query(
      `UPDATE custody_event e SET corrects_event_id = v.target_id
       FROM unnest($1::uuid[], $2::uuid[]) AS v(id, target_id) WHERE e.id = v.id`,
      [found.map((f) => f.correction.eventId), found.map((f) => f.target.id)],
    );
    // In id order, as a dispatcher batch share-locks them (DeliveryRepository.startAttempts): an UPDATE
    // locks rows in whatever order its join yields, and two orders are a deadlock, retried at a cost.
    await db.query(`SELECT id FROM custody_event WHERE id = ANY($1::uuid[]) ORDER BY id FOR NO KEY UPDATE`, [
      found.map((f) => f.target.id),
    ]);
    const retracted = await returning<{ id: string }>(
      db,
      `UPDATE custody_event e SET retracted_by_event_id = v.correction_id
       FROM unnest($1::uuid[], $2::uuid[]) AS v(target_id, correction_id)
       WHERE e.id = v.target_id AND e.retracted_by_event_id IS NULL
       RETURNING e.id`,
      [found.map((f) => f.target.id), found.map((f) => f.correction.eventId)],
    );
    // Nothing more goes out about a retracted event; planning then corrects whoever was sent something.
    await this.retractions.retract(
      db,
      retracted.map((row) => row.id),
    );
    await this.status.recompute(db, [...new Set(found.map((f) => f.target.personId))]);
  }
}

/** A CORRECTION of this source ($1) still waiting for the event it names. */
const PENDING_CORRECTION = `w.source_id = $1 AND w.type = 'CORRECTION' AND w.corrects_event_id IS NULL`;

const CORRECTION_LOCK_NAMESPACE = 7318;

/**
 * The first statement of a source's ingestion transaction, sent with its BEGIN. A correction and the event it retracts
 * may be recorded at once by two transactions, neither seeing the other's rows: the correction would
 * wait for an event already recorded, and the event would alert. So a transaction holding a
 * CORRECTION runs alone among its source's transactions (they hold this lock shared): it sees every
 * event recorded before it, and every event recorded after sees it waiting.
 */
export function correctionLockStatement(sourceId: string, holdsCorrection: boolean): string {
  // The id is written into the statement (it goes with the BEGIN, which takes no parameters): only a uuid may be.
  if (!UUID.test(sourceId)) throw new Error('a source id is a uuid');
  const lock = holdsCorrection ? 'pg_advisory_xact_lock' : 'pg_advisory_xact_lock_shared';
  return `SELECT ${lock}(${CORRECTION_LOCK_NAMESPACE}, hashtext('${sourceId}'))`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ExistingEvent {
  id: string;
  bodyHash: Buffer;
}

export async function findExisting(db: Queryable, sourceId: string, sourceEventIds: string[]): Promise<Map<string, ExistingEvent>> {
  const rows: { id: string; sourceEventId: string; bodyHash: Buffer }[] = await db.query(
    namedWhenSmall(
      'vigil_existing_events',
      `SELECT id, source_event_id AS "sourceEventId", body_hash AS "bodyHash" FROM custody_event WHERE source_id = $1 AND source_event_id = ANY($2)`,
      sourceEventIds.length,
    ),
    [sourceId, sourceEventIds],
  );
  return new Map(rows.map((row) => [row.sourceEventId, { id: row.id, bodyHash: row.bodyHash }]));
}
