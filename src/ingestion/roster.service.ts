import { Metrics } from '../metrics/metrics.js';
import { randomUUID } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { canonicalJson } from '../common/canonical-json.js';
import { type AuditedBy, AuditService } from '../common/audit.service.js';
import { Clock } from '../common/clock.js';
import { sha256 } from '../common/crypto/field-cipher.js';
import { DomainError } from '../common/problem/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { type Queryable, returning } from '../database/queryable.js';
import { retryingTransaction } from '../database/retrying-transaction.js';
import { STATUS_AFTER_SQL, STATUS_EVENT_TYPES } from '../people/custody-status.js';
import { IdentityResolver } from '../people/identity-resolver.js';
import { FacilitiesService } from '../sources/facilities.service.js';
import { FeedHealthService } from '../sources/feed-health.service.js';
import type { SourceRequest } from '../sources/source-auth.guard.js';
import { refuseReplayedWebhooks } from '../sources/webhook-replay.js';
import {
  EventRecorder,
  FUTURE_TOLERANCE_MS,
  isMinorAt,
  type NewEvent,
  type NotificationBlock,
  notificationBlock,
} from './event-recorder.js';
import { diffRoster, mustHold } from './roster-diff.js';
import type { Roster, RosterPeople } from './roster-stream.js';
import type { RosterResultDto, RosterSnapshotDto } from './roster.dto.js';

const FACILITY_LOCK_NAMESPACE = 7317;

interface Snapshot {
  id: string;
  sourceId: string;
  facilityId: string;
  facilitySuppressed: boolean;
  asOf: Date;
}

interface PersonFacts {
  id: string;
  protected: boolean;
  dateOfBirth: string | null;
}

/**
 * Full roster snapshots, diffed against the people Vigil holds at the facility. The population
 * is everyone whose custody status puts them there (in custody, or transferred in), so someone a
 * TRANSFERRED event moved away is not "released" when they vanish from the old roster.
 */
const ANALYZE_AFTER_BASELINE = 5_000;

/**
 * A roster is resolved and its events recorded a slice of people at a time, inside its one
 * transaction: only one slice's identifier maps, statement parameters and events exist at once (a
 * large roster built whole held several times its own size and blocked the event loop while it was
 * built), and other requests get a turn between slices. Large enough that a big roster costs tens of
 * statements, not thousands; what the diff needs across slices is only the person ids.
 */
export const ROSTER_SLICE_PEOPLE = 5_000;

/**
 * Roster transactions running at once in this process. Each holds a connection while it waits for
 * its facility's lock; without a cap, rosters queued behind one facility take the whole pool and
 * every other source's events answer 503. Those beyond it wait here, holding no connection.
 */
const MAX_ROSTERS_IN_FLIGHT = 4;

@Injectable()
export class RosterService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly identity: IdentityResolver,
    private readonly facilities: FacilitiesService,
    private readonly recorder: EventRecorder,
    private readonly feeds: FeedHealthService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  /** People per slice; tests shrink it so that a small roster spans several slices. */
  slicePeople = ROSTER_SLICE_PEOPLE;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  async submit({ source, webhook }: SourceRequest, code: string, roster: Roster): Promise<RosterResultDto> {
    if (source.facilityCodes && !source.facilityCodes.includes(code)) {
      throw new DomainError('forbidden', 'FACILITY_NOT_ALLOWED', `This source may not report facility ${code}.`);
    }
    const asOf = new Date(roster.asOf);
    if (Number.isNaN(asOf.getTime()) || asOf.getTime() > this.clock.now().getTime() + FUTURE_TOLERANCE_MS) {
      throw new DomainError('invalid', 'ROSTER_AS_OF', 'asOf must be a valid time, not in the future.', {
        errors: [{ path: 'asOf', message: 'must be a valid time, not in the future' }],
      });
    }
    await this.turn();
    const { result, facilityId, population } = await retryingTransaction(this.db, async (tx) => {
      await refuseReplayedWebhooks(tx, source.id, webhook ? [webhook] : [], this.clock.now());
      const facility = (await this.facilities.resolve(tx, [{ code }])).get(code)!;
      await tx.query(`SELECT pg_advisory_xact_lock(${FACILITY_LOCK_NAMESPACE}, hashtext($1))`, [facility.id]);
      const replayed = await this.inOrder(tx, facility.id, source.id, asOf);
      if (replayed) return { result: replayed, facilityId: facility.id, population: undefined };

      const inSnapshot = await this.resolve(tx, source.id, roster.people);
      const population = await this.population(tx, facility.id);
      const snapshot: Snapshot = {
        id: randomUUID(),
        sourceId: source.id,
        facilityId: facility.id,
        facilitySuppressed: facility.suppressed,
        asOf,
      };

      const [{ known }]: { known: boolean }[] = await tx.query(
        `SELECT EXISTS (SELECT 1 FROM roster_snapshot WHERE facility_id = $1 AND status IN ('baseline', 'applied', 'approved')) AS known`,
        [facility.id],
      );
      if (!known) {
        await this.insertSnapshot(tx, snapshot, 'baseline', inSnapshot.size, {
          booked: [],
          released: [],
          unchanged: inSnapshot.size,
          unchangedIds: [],
        });
        // The first roster only tells Vigil who is there: statuses move, nobody is alerted.
        const arrivals = [...inSnapshot].filter((id) => !population.has(id));
        await this.record(tx, snapshot, 'BOOKED', arrivals, 'baseline');
        const result = { snapshotId: snapshot.id, baseline: true, booked: 0, released: 0, unchanged: inSnapshot.size, held: false };
        return { result, facilityId: facility.id, population: inSnapshot.size };
      }

      let diff = diffRoster(population, inSnapshot);
      // Events newer than this roster moved some of these people after its export was taken: for them
      // the roster is compared with where they were at its asOf, so someone booked since is not
      // released, nor someone released since booked.
      const then = await this.presentAt(tx, [...diff.booked, ...diff.released], facility.id, asOf);
      if (then.size) {
        const present = new Set([...population].filter((id) => !then.has(id)));
        for (const [id, here] of then) if (here) present.add(id);
        diff = diffRoster(present, inSnapshot);
      }
      const held = mustHold(diff.released.length, population.size, this.config.roster);
      await this.insertSnapshot(tx, snapshot, held ? 'held' : 'applied', population.size, {
        ...diff,
        unchangedIds: held ? [...inSnapshot].filter((id) => population.has(id)) : [],
      });
      // Only the persons alerted about are held against a concurrent merge, not the whole roster.
      if (!held) await this.hold(tx, [...diff.booked, ...diff.released]);
      if (!held) await this.emit(tx, snapshot, diff.booked, diff.released);
      const result = {
        snapshotId: snapshot.id,
        baseline: false,
        booked: diff.booked.length,
        released: diff.released.length,
        unchanged: diff.unchanged,
        held,
      };
      return { result, facilityId: facility.id, population: inSnapshot.size };
    }).finally(() => this.nextTurn());
    await this.feeds.recordContact(source.id, [facilityId], population === undefined ? undefined : { facilityId, count: population, asOf });
    // A sender's retry of the same snapshot (no population) was counted the first time.
    if (population !== undefined) this.metrics.rosterSnapshot(source.name, result.baseline ? 'baseline' : result.held ? 'held' : 'applied');
    // A large baseline bulk-loads people faster than autovacuum notices; fresh statistics keep the
    // next snapshot's identity lookup a hash join instead of one index probe per person.
    if (result.baseline && roster.people.length >= ANALYZE_AFTER_BASELINE) await this.db.query(`ANALYZE person, person_identifier`);
    return result;
  }

  /** Waits until fewer than MAX_ROSTERS_IN_FLIGHT rosters run here; rosters take turns in arrival order. */
  private async turn(): Promise<void> {
    if (this.running < MAX_ROSTERS_IN_FLIGHT) this.running++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** A roster's transaction ended: its slot passes straight to the next one waiting, or is freed. */
  private nextTurn(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }

  /**
   * Snapshots apply in asOf order: one no newer than the latest the facility has would move people
   * back to an older truth (a late delivery of 06:00 after 06:15), so it is refused. The same
   * snapshot again (same source and asOf, e.g. a sender's retry) gets the first one's answer.
   */
  private async inOrder(db: Queryable, facilityId: string, sourceId: string, asOf: Date): Promise<RosterResultDto | undefined> {
    const rows: {
      id: string;
      source_id: string;
      as_of: Date;
      status: string;
      booked: number;
      released: number;
      unchanged: number;
    }[] = await db.query(
      `SELECT id, source_id, as_of, status, booked, released, unchanged FROM roster_snapshot
       WHERE facility_id = $1 AND status <> 'discarded' ORDER BY as_of DESC, received_at DESC LIMIT 1`,
      [facilityId],
    );
    const latest = rows[0];
    if (!latest || latest.as_of.getTime() < asOf.getTime()) return undefined;
    if (latest.as_of.getTime() === asOf.getTime() && latest.source_id === sourceId) {
      return {
        snapshotId: latest.id,
        baseline: latest.status === 'baseline',
        booked: latest.booked,
        released: latest.released,
        unchanged: latest.unchanged,
        held: latest.status === 'held',
      };
    }
    throw new DomainError(
      'conflict',
      'ROSTER_OUT_OF_ORDER',
      `This facility already has a snapshot as of ${latest.as_of.toISOString()}; a roster must be newer than the last one.`,
    );
  }

  async approve(snapshotId: string, by: AuditedBy): Promise<RosterResultDto> {
    return retryingTransaction(this.db, async (tx) => {
      const snapshot = await this.decide(tx, snapshotId, 'approved', by.staff.staffId);
      await tx.query(`SELECT pg_advisory_xact_lock(${FACILITY_LOCK_NAMESPACE}, hashtext($1))`, [snapshot.facilityId]);
      // A newer roster was applied since the hold: its people are the truth now, and this diff would
      // release those it lists that the held one lacked (a maintenance run's export, then a full one).
      const [{ overtaken }]: { overtaken: boolean }[] = await tx.query(
        `SELECT EXISTS (SELECT 1 FROM roster_snapshot WHERE facility_id = $1 AND as_of > $2
                          AND status IN ('baseline', 'applied', 'approved')) AS overtaken`,
        [snapshot.facilityId, snapshot.asOf],
      );
      if (overtaken) {
        throw new DomainError(
          'conflict',
          'HELD_SNAPSHOT_OVERTAKEN',
          'A newer roster of this facility has been applied since this diff was held; discard it instead.',
        );
      }
      // A record merged into another since the hold is that person now: alerts go to the survivor,
      // whose registrations the merge moved. Survivors are held first, so no merge moves them on
      // before this commits; one merged between the read and the hold reruns the transaction.
      const survivorOf = await this.survivors(tx, [...snapshot.bookedIds, ...snapshot.releasedIds]);
      const bookable = unique(snapshot.bookedIds.map(survivorOf));
      const releasable = unique(snapshot.releasedIds.map(survivorOf));
      await this.hold(tx, unique([...bookable, ...releasable]));
      // Read after the hold, so no later merge can join a held survivor to a record the roster named:
      // someone the roster still lists under another record's identifiers is there, not released.
      const namedOf = await this.survivors(tx, [...snapshot.bookedIds, ...snapshot.unchangedIds]);
      const named = new Set([...snapshot.bookedIds, ...snapshot.unchangedIds].map(namedOf));
      // Time has passed since the hold: release only who is still there, book only who is not.
      const population = await this.population(tx, snapshot.facilityId);
      const booked = bookable.filter((id) => !population.has(id));
      const released = releasable.filter((id) => population.has(id) && !named.has(id));
      await this.emit(tx, snapshot, booked, released);
      await this.audited(tx, by, 'roster.approve', snapshot, { released: released.length, booked: booked.length });
      return { snapshotId, baseline: false, booked: booked.length, released: released.length, unchanged: snapshot.unchanged, held: false };
    });
  }

  async discard(snapshotId: string, by: AuditedBy): Promise<void> {
    await retryingTransaction(this.db, async (tx) => {
      const snapshot = await this.decide(tx, snapshotId, 'discarded', by.staff.staffId);
      await this.audited(tx, by, 'roster.discard', snapshot, { released: snapshot.releasedIds.length, booked: snapshot.bookedIds.length });
    });
  }

  /** An admin's decision on a held diff, with how many people it moved (approve) or would have (discard); never who. */
  private async audited(
    db: Queryable,
    by: AuditedBy,
    action: string,
    snapshot: Snapshot & { facilityCode: string },
    moved: { released: number; booked: number },
  ): Promise<void> {
    await this.audit.record(
      [
        {
          actor: by.staff,
          action,
          targetType: 'roster_snapshot',
          targetId: snapshot.id,
          clientAddress: by.clientAddress,
          details: { facilityCode: snapshot.facilityCode, ...moved },
        },
      ],
      db,
    );
  }

  async list(status: string): Promise<RosterSnapshotDto[]> {
    const rows: {
      id: string;
      status: string;
      source_id: string;
      source_name: string;
      code: string;
      facility_name: string | null;
      as_of: Date;
      received_at: Date;
      population: number;
      booked: number;
      released: number;
      unchanged: number;
      would_release: { personId: string; displayName: string }[];
      would_book: { personId: string; displayName: string }[];
    }[] = await this.db.query(
      `SELECT r.id, r.status, s.id AS source_id, s.name AS source_name, f.code, f.name AS facility_name, r.as_of, r.received_at,
              r.population, r.booked, r.released, r.unchanged,
              (SELECT coalesce(json_agg(json_build_object('personId', p.id, 'displayName', p.first_name || ' ' || p.last_name)
                                        ORDER BY p.last_name, p.first_name), '[]')
               FROM person p WHERE p.id = ANY(r.released_person_ids)) AS would_release,
              (SELECT coalesce(json_agg(json_build_object('personId', p.id, 'displayName', p.first_name || ' ' || p.last_name)
                                        ORDER BY p.last_name, p.first_name), '[]')
               FROM person p WHERE p.id = ANY(r.booked_person_ids)) AS would_book
       FROM roster_snapshot r JOIN source s ON s.id = r.source_id JOIN facility f ON f.id = r.facility_id
       WHERE r.status = $1 ORDER BY r.received_at LIMIT 200`,
      [status],
    );
    return rows.map((row) => ({
      snapshotId: row.id,
      status: row.status,
      source: { sourceId: row.source_id, name: row.source_name },
      facility: { code: row.code, name: row.facility_name },
      asOf: row.as_of.toISOString(),
      receivedAt: row.received_at.toISOString(),
      population: row.population,
      booked: row.booked,
      released: row.released,
      unchanged: row.unchanged,
      wouldRelease: row.would_release,
      wouldBook: row.would_book,
    }));
  }

  private async population(db: Queryable, facilityId: string): Promise<Set<string>> {
    const rows: { id: string }[] = await db.query(
      `SELECT id FROM person WHERE facility_id = $1 AND merged_into IS NULL AND custody_status IN ('IN_CUSTODY', 'TRANSFERRED')`,
      [facilityId],
    );
    return new Set(rows.map((row) => row.id));
  }

  /**
   * Of these persons, those whose status an event set after `asOf`, each with whether their latest
   * standing event at or before `asOf` had them in custody at this facility.
   */
  private async presentAt(db: Queryable, ids: string[], facilityId: string, asOf: Date): Promise<Map<string, boolean>> {
    if (!ids.length) return new Map();
    const rows: { id: string; here: boolean }[] = await db.query(
      `SELECT p.id, coalesce(l.here, false) AS here
       FROM person p LEFT JOIN LATERAL (
         SELECT ${STATUS_AFTER_SQL} IN ('IN_CUSTODY', 'TRANSFERRED')
                AND (CASE WHEN e.type = 'TRANSFERRED' THEN e.to_facility_id ELSE e.facility_id END) = $2 AS here
         FROM custody_event e
         WHERE e.person_id = p.id AND e.retracted_by_event_id IS NULL AND e.type = ANY($4) AND e.occurred_at <= $3
         ORDER BY e.occurred_at DESC, e.received_at DESC, e.id DESC
         LIMIT 1
       ) l ON true
       WHERE p.id = ANY($1::uuid[]) AND p.status_as_of > $3`,
      [ids, facilityId, asOf, STATUS_EVENT_TYPES],
    );
    return new Map(rows.map((row) => [row.id, row.here]));
  }

  /** Each record as the person it is now part of (`merged_into` always names the final survivor). */
  private async survivors(db: Queryable, ids: string[]): Promise<(id: string) => string> {
    const rows: { id: string; merged_into: string }[] = await db.query(
      `SELECT id, merged_into FROM person WHERE id = ANY($1::uuid[]) AND merged_into IS NOT NULL`,
      [ids],
    );
    const merged = new Map(rows.map((row) => [row.id, row.merged_into]));
    return (id) => merged.get(id) ?? id;
  }

  private async facts(db: Queryable, ids: string[]): Promise<Map<string, PersonFacts>> {
    const rows: { id: string; protected: boolean; date_of_birth: string | null }[] = await db.query(
      `SELECT id, protected, date_of_birth::text FROM person WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return new Map(rows.map((row) => [row.id, { id: row.id, protected: row.protected, dateOfBirth: row.date_of_birth }]));
  }

  /**
   * The person each roster entry names, slice by slice; only their ids are kept. A later slice can
   * merge a record an earlier one resolved (an entry whose identifiers join it to another person),
   * so once more than one slice ran, every id is read again as the person it is now part of.
   */
  private async resolve(db: Queryable, sourceId: string, people: RosterPeople): Promise<Set<string>> {
    const resolved = new Set<string>();
    for (const slice of people.slices(this.slicePeople)) {
      for (const person of await this.identity.resolve(db, sourceId, slice, { holdOwners: false })) resolved.add(person.id);
      await nextTurn();
    }
    if (people.length <= this.slicePeople) return resolved;
    const named = new Set<string>();
    for (const slice of slices([...resolved], this.slicePeople)) {
      const survivorOf = await this.survivors(db, slice);
      for (const id of slice) named.add(survivorOf(id));
    }
    return named;
  }

  /** `identity.hold` a slice at a time, in one id order across slices as within one (no deadlock with a merge). */
  private async hold(db: Queryable, ids: string[]): Promise<void> {
    for (const slice of slices([...ids].sort(), this.slicePeople)) await this.identity.hold(db, slice);
  }

  private async emit(db: Queryable, snapshot: Snapshot, bookedIds: string[], releasedIds: string[]): Promise<void> {
    await this.record(db, snapshot, 'BOOKED', bookedIds);
    await this.record(db, snapshot, 'RELEASED', releasedIds);
  }

  /** Events about these persons as they are now (protection and birth date after any merge), a slice at a time. */
  private async record(
    db: Queryable,
    snapshot: Snapshot,
    type: 'BOOKED' | 'RELEASED',
    ids: string[],
    forced?: NotificationBlock,
  ): Promise<void> {
    for (const slice of slices(ids, this.slicePeople)) {
      const facts = await this.facts(db, slice);
      await this.recorder.record(
        db,
        snapshot.sourceId,
        this.events(
          snapshot,
          type,
          slice.map((id) => facts.get(id)!),
          forced,
        ),
      );
      await nextTurn();
    }
  }

  private events(snapshot: Snapshot, type: 'BOOKED' | 'RELEASED', persons: PersonFacts[], forced?: NotificationBlock): NewEvent[] {
    return persons.map((person) => {
      const details = { derivedFrom: 'roster', snapshotId: snapshot.id };
      const payload = { ...details, type, personId: person.id, asOf: snapshot.asOf.toISOString() };
      const minor = isMinorAt(person.dateOfBirth, snapshot.asOf);
      const block = forced ?? notificationBlock(snapshot.facilitySuppressed, person.protected, minor);
      return {
        sourceEventId: `roster:${snapshot.id}:${type}:${person.id}`,
        type,
        occurredAt: snapshot.asOf,
        personId: person.id,
        facilityId: snapshot.facilityId,
        toFacilityId: null,
        scheduledFor: null,
        details,
        payload,
        bodyHash: sha256(canonicalJson(payload)),
        rosterSnapshotId: snapshot.id,
        minor,
        block,
        path: '',
      };
    });
  }

  private async insertSnapshot(
    db: Queryable,
    snapshot: Snapshot,
    status: 'baseline' | 'applied' | 'held',
    population: number,
    diff: { booked: string[]; released: string[]; unchanged: number; unchangedIds: string[] },
  ): Promise<void> {
    await db.query(
      `INSERT INTO roster_snapshot (id, source_id, facility_id, as_of, received_at, status, population, booked, released, unchanged,
                                    booked_person_ids, released_person_ids, unchanged_person_ids)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        snapshot.id,
        snapshot.sourceId,
        snapshot.facilityId,
        snapshot.asOf,
        this.clock.now(),
        status,
        population,
        diff.booked.length,
        diff.released.length,
        diff.unchanged,
        // Only a held diff needs its lists later; applied ones live on as events.
        status === 'held' ? diff.booked : [],
        status === 'held' ? diff.released : [],
        status === 'held' ? diff.unchangedIds : [],
      ],
    );
  }

  private async decide(
    db: Queryable,
    snapshotId: string,
    status: 'approved' | 'discarded',
    staffId: string | null,
  ): Promise<Snapshot & { facilityCode: string; bookedIds: string[]; releasedIds: string[]; unchangedIds: string[]; unchanged: number }> {
    const rows = await returning<{
      source_id: string;
      facility_id: string;
      code: string;
      suppressed: boolean;
      as_of: Date;
      booked_person_ids: string[];
      released_person_ids: string[];
      unchanged_person_ids: string[];
      unchanged: number;
    }>(
      db,
      `UPDATE roster_snapshot r SET status = $2, decided_at = $3, decided_by = $4
       FROM facility f WHERE r.id = $1 AND r.status = 'held' AND f.id = r.facility_id
       RETURNING r.source_id, r.facility_id, f.code, f.suppressed, r.as_of, r.booked_person_ids, r.released_person_ids,
                 r.unchanged_person_ids, r.unchanged`,
      [snapshotId, status, this.clock.now(), staffId],
    );
    if (!rows.length) throw new DomainError('not_found', 'HELD_SNAPSHOT_NOT_FOUND', 'No held roster snapshot with that id.');
    const row = rows[0];
    return {
      id: snapshotId,
      sourceId: row.source_id,
      facilityId: row.facility_id,
      facilityCode: row.code,
      facilitySuppressed: row.suppressed,
      asOf: row.as_of,
      bookedIds: row.booked_person_ids,
      releasedIds: row.released_person_ids,
      unchangedIds: row.unchanged_person_ids,
      unchanged: row.unchanged,
    };
  }
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}

function* slices<T>(items: T[], size: number): Generator<T[]> {
  for (let from = 0; from < items.length; from += size) yield items.slice(from, from + size);
}
