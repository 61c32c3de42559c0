import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { canonicalJson } from '../common/canonical-json.js';
import { Clock } from '../common/clock.js';
import { sha256 } from '../common/crypto/field-cipher.js';
import { DomainError, type FieldError } from '../common/problem/domain-error.js';
import { IdentityResolver, type ResolvedPerson } from '../people/identity-resolver.js';
import { retryingTransactionOpenedWith } from '../database/retrying-transaction.js';
import { Metrics } from '../metrics/metrics.js';
import { FacilitiesService, type FacilityRef } from '../sources/facilities.service.js';
import { FeedHealthService } from '../sources/feed-health.service.js';
import type { SourceRequest } from '../sources/source-auth.guard.js';
import type { AuthenticatedSource } from '../sources/sources.service.js';
import type { CustodyEventInput } from './custody-event.schema.js';
import {
  EventRecorder,
  FUTURE_TOLERANCE_MS,
  isMinorAt,
  correctionLockStatement,
  type NewEvent,
  notificationBlock,
  type RecordedEvent,
} from './event-recorder.js';
import { GroupCommit } from './group-commit.js';
import { readGroup } from './group-reads.js';

export interface IncomingEvent {
  dto: CustodyEventInput;
  /** The item exactly as received; kept, and hashed to tell a replay from a conflicting reuse of an id. */
  raw: unknown;
  /** `events[3].` in a batch, empty for a single event. */
  path: string;
}

interface IngestRequest {
  request: SourceRequest;
  incoming: IncomingEvent[];
}

// Enough to keep PostgreSQL busy while the next group gathers; more only adds lock waits.
const MAX_TRANSACTIONS_PER_SOURCE = 2;
// The second transaction waits for a few events: one event alone pays a whole transaction's round
// trips, while the running transaction ends soon and takes it along.
const MIN_EVENTS_TO_OVERLAP = 3;
const MAX_EVENTS_PER_GROUP = 1000;

@Injectable()
export class CustodyEventsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly identity: IdentityResolver,
    private readonly facilities: FacilitiesService,
    private readonly recorder: EventRecorder,
    private readonly feeds: FeedHealthService,
    private readonly metrics: Metrics,
  ) {}

  private readonly groups = new GroupCommit<IngestRequest, RecordedEvent[]>({
    maxInFlight: MAX_TRANSACTIONS_PER_SOURCE,
    minOverlapWeight: MIN_EVENTS_TO_OVERLAP,
    maxWeight: MAX_EVENTS_PER_GROUP,
    weight: ({ incoming }) => incoming.length,
    runGroup: (requests) => this.record(requests),
    runAlone: async (request) => (await this.record([request]))[0],
  });

  /**
   * Records a request's events atomically: all of them with their planned deliveries, or (on any
   * error) none. Requests from a busy source share transactions (see GroupCommit); each still
   * succeeds or fails on its own.
   */
  async ingest(request: SourceRequest, incoming: IncomingEvent[]): Promise<RecordedEvent[]> {
    const source = request.source.name;
    let results: RecordedEvent[];
    try {
      this.checkFacilities(request.source, incoming);
      this.checkTimes(incoming);
      results = await this.groups.submit(request.source.id, { request, incoming });
    } catch (error) {
      // Refused for the source's own mistake, or not taken for ours (an outage): the source must send these again.
      const outcome = error instanceof DomainError && error.kind !== 'unavailable' ? 'rejected' : 'error';
      for (const { dto } of incoming) this.metrics.custodyEvent(source, dto.type, outcome);
      throw error;
    }
    for (let i = 0; i < results.length; i++) {
      const status = results[i].status;
      this.metrics.custodyEvent(source, incoming[i].dto.type, status === 'accepted' ? 'recorded' : status);
    }
    return results;
  }

  /** A body refused before its events could be read: each item it seems to hold counts as rejected, its type if it names one. */
  countUnreadable(source: AuthenticatedSource, items: unknown[]): void {
    for (const item of items) {
      const type = typeof item === 'object' && item !== null && 'type' in item && typeof item.type === 'string' ? item.type : 'unknown';
      this.metrics.custodyEvent(source.name, type, 'rejected');
    }
  }

  /** One transaction for requests of one source; later items see earlier ones (a repeated sourceEventId is a duplicate). */
  private async record(requests: IngestRequest[]): Promise<RecordedEvent[][]> {
    const sourceId = requests[0].request.source.id;
    const incoming = requests.flatMap((r) => r.incoming);
    const lock = correctionLockStatement(
      sourceId,
      incoming.some(({ dto }) => dto.type === 'CORRECTION'),
    );
    const { results, facilityIds } = await retryingTransactionOpenedWith(this.db, lock, async (tx) => {
      const facilityRefs = incoming.flatMap(({ dto }) => [dto.facility, ...(dto.toFacility ? [dto.toFacility] : [])]);
      // Replays are classified before any identity work; the unique constraint stays the arbiter.
      const reads = await readGroup(tx, sourceId, this.clock.now(), {
        webhooks: requests.flatMap(({ request }) => (request.webhook ? [request.webhook] : [])),
        facilityCodes: [...new Set(facilityRefs.map(({ code }) => code))],
        sourceEventIds: [...new Set(incoming.map(({ dto }) => dto.sourceEventId))],
      });
      const facilities = await this.facilities.resolve(tx, facilityRefs, reads.facilities);
      const existing = reads.existing;
      const hashes = incoming.map(({ raw }) => sha256(canonicalJson(raw)));
      const firstIndex = new Map<string, number>();
      const fresh: number[] = [];
      incoming.forEach(({ dto }, index) => {
        if (existing.has(dto.sourceEventId) || firstIndex.has(dto.sourceEventId)) return;
        firstIndex.set(dto.sourceEventId, index);
        fresh.push(index);
      });

      const persons = await this.identity.resolve(
        tx,
        sourceId,
        fresh.map((index) => incoming[index].dto.person),
      );
      const events = fresh.map((index, i) => this.toNewEvent(incoming[index], hashes[index], persons[i], facilities));
      const recorded = new Map((await this.recorder.record(tx, sourceId, events)).map((r) => [r.sourceEventId, r]));

      const results = incoming.map(({ dto }, index): RecordedEvent => {
        const first = firstIndex.get(dto.sourceEventId);
        if (first === index) return recorded.get(dto.sourceEventId)!;
        const prior = existing.get(dto.sourceEventId);
        const [eventId, priorHash] = prior ? [prior.id, prior.bodyHash] : [recorded.get(dto.sourceEventId)!.eventId, hashes[first!]];
        return {
          sourceEventId: dto.sourceEventId,
          eventId,
          status: priorHash.equals(hashes[index]) ? 'duplicate' : 'conflict',
          notificationsPlanned: 0,
        };
      });
      return { results, facilityIds: [...new Set(incoming.map(({ dto }) => facilities.get(dto.facility.code)!.id))] };
    });
    await this.feeds.recordContact(sourceId, facilityIds);
    let offset = 0;
    return requests.map(({ incoming: own }) => results.slice(offset, (offset += own.length)));
  }

  private toNewEvent(item: IncomingEvent, bodyHash: Buffer, person: ResolvedPerson, facilities: Map<string, FacilityRef>): NewEvent {
    const { dto } = item;
    const occurredAt = new Date(dto.occurredAt);
    const facility = facilities.get(dto.facility.code)!;
    const minor = isMinorAt(person.dateOfBirth ?? dto.person.dateOfBirth ?? null, occurredAt);
    const block = notificationBlock(facility.suppressed, person.protected, minor);
    return {
      sourceEventId: dto.sourceEventId,
      type: dto.type,
      occurredAt,
      personId: person.id,
      facilityId: facility.id,
      toFacilityId: dto.toFacility ? facilities.get(dto.toFacility.code)!.id : null,
      scheduledFor: dto.scheduledFor ? new Date(dto.scheduledFor) : null,
      details: dto.details ?? null,
      payload: item.raw,
      bodyHash,
      rosterSnapshotId: null,
      minor,
      block,
      path: item.path,
    };
  }

  private checkFacilities(source: AuthenticatedSource, incoming: IncomingEvent[]): void {
    if (!source.facilityCodes) return;
    const allowed = new Set(source.facilityCodes);
    // A transfer's destination is in the source's scope too: a source restricted to its own jails
    // cannot move people into (and alert about) a facility it does not report for.
    const refused = incoming
      .flatMap(({ dto }) => [dto.facility.code, ...(dto.toFacility ? [dto.toFacility.code] : [])])
      .find((code) => !allowed.has(code));
    if (refused !== undefined) {
      throw new DomainError('forbidden', 'FACILITY_NOT_ALLOWED', `This source may not report facility ${refused}.`);
    }
  }

  private checkTimes(incoming: IncomingEvent[]): void {
    const limit = this.clock.now().getTime() + FUTURE_TOLERANCE_MS;
    const errors: FieldError[] = incoming
      .filter(({ dto }) => Date.parse(dto.occurredAt) > limit)
      .map(({ path }) => ({ path: `${path}occurredAt`, message: 'is in the future' }));
    if (errors.length) throw new DomainError('invalid', 'EVENT_IN_FUTURE', 'An event cannot have happened in the future.', { errors });
  }
}
