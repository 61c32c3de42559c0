import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Clock } from '../common/clock.js';
import { FieldDecryptError } from '../common/crypto/field-cipher.js';
import { every, stopEvery } from '../common/intervals.js';
import { loggableError } from '../common/database-errors.js';
import { MANUAL_DISPATCH } from '../common/manual-dispatch.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import {
  type AttemptEnd,
  type AttemptOutcome,
  DELIVERY_CHANNEL,
  type DeliveryChange,
  DeliveryRepository,
} from '../database/delivery.repository.js';
import { type Listener, listenOn } from '../database/listen.js';
import { Metrics } from '../metrics/metrics.js';
import { CHANNELS, type Channel } from '../registrations/contact-address.js';
import type { ChannelProvider, OutboundMessage } from './channels/channel-provider.js';
import { ChannelProviders } from './channels/channel-providers.js';
import { correctionWaitsUntil, type DeliveryContext, DeliveryContextService, mayNotSend } from './delivery-context.service.js';
import { DeliveryReportsService } from './delivery-reports.service.js';
import { attemptHash } from './ledger.js';
import { quietHoursEnd, readQuietHours } from './quiet-hours.js';
import { RevocationsService } from './revocations.service.js';
import { StaffAlertsService } from './staff-alerts.service.js';
import { backoffSeconds, type Classified, classifyError } from './retry-policy.js';

const BATCH = 256;
const POLL_MS = 1_000;
const ESCALATION_CHECK_MS = 15_000;
/** How soon a correction is asked again while the alert it corrects is still in a batch in hand (a batch takes seconds). */
const CORRECTION_RECHECK_MS = 2_000;

/**
 * Which provider's lane sends each channel. A provider that hangs (Twilio's client waits out its
 * timeout on every attempt) fills only its own lane's batches, so the other lane's alerts never
 * queue behind its attempts. Every channel must have a lane, or the loop would never send it.
 */
const LANE_OF: Record<Channel, 'email' | 'twilio'> = { email: 'email', sms: 'twilio', voice: 'twilio' };

/** One provider's share of the loop: claims only its channels, at most two batches in hand. */
interface Lane {
  name: string;
  channels: Channel[];
  running?: Promise<void>;
  again: boolean;
}

/**
 * The worker: claims due deliveries (FOR UPDATE SKIP LOCKED, with a lease), renders them, sends
 * them, and writes every attempt to the ledger before and after the provider call. Wakes on
 * LISTEN/NOTIFY and also polls, so a lost notification never strands a delivery; a dead worker's
 * leases expire and the work is claimed again. Any number of workers may share one database.
 */
@Injectable()
export class DispatcherService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DispatcherService.name);
  readonly workerId = `worker-${randomUUID()}`;
  /** Each claimed batch has a lease of its own, so a batch whose lease was lost never touches a later claim of the same rows. */
  private batches = 0;
  private listener?: Listener;
  private readonly lanes: Lane[] = [...new Set(Object.values(LANE_OF))].map((name) => ({
    name,
    channels: CHANNELS.filter((channel) => LANE_OF[channel] === name),
    again: false,
  }));
  private stopping = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly deliveries: DeliveryRepository,
    private readonly clock: Clock,
    private readonly contexts: DeliveryContextService,
    private readonly reports: DeliveryReportsService,
    private readonly providers: ChannelProviders,
    private readonly staffAlerts: StaffAlertsService,
    private readonly revocations: RevocationsService,
    private readonly scheduler: SchedulerRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(MANUAL_DISPATCH) private readonly manualDispatch: boolean,
    private readonly metrics: Metrics,
  ) {
    revocations.watchLeasesOf(this.workerId);
  }

  async onModuleInit(): Promise<void> {
    if (this.config.role === 'api' || this.manualDispatch) return;
    every(this.scheduler, 'dispatch-poll', POLL_MS, () => Promise.resolve(this.wake()), this.logger);
    every(this.scheduler, 'escalation', ESCALATION_CHECK_MS, () => this.staffAlerts.escalate(), this.logger);
    this.listener = await listenOn(this.config.database.sessionUrl ?? this.config.database.url, DELIVERY_CHANNEL, {
      onMessage: () => this.wake(),
      onLost: (error) => this.logger.warn({ err: loggableError(error) }, 'LISTEN connection lost; polling continues, reconnecting'),
      // A wake-up may have been missed meanwhile: look once now rather than at the next poll.
      onReconnected: () => this.wake(),
    });
    this.wake();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    stopEvery(this.scheduler, 'dispatch-poll', 'escalation');
    await this.listener?.close();
    await Promise.allSettled(this.lanes.map((lane) => lane.running ?? Promise.resolve()));
    await Promise.allSettled([...this.inFlight]);
    // Whatever this worker still holds goes back to the queue at once rather than after the lease.
    await this.deliveries.releaseLeases(`${this.workerId}/`).catch(() => undefined);
    await this.providers.close();
  }

  /** Wakes every lane. */
  wake(): void {
    for (const lane of this.lanes) this.wakeLane(lane);
  }

  /** Starts the lane's drain unless one is running; a wake during a drain makes it go round once more. */
  private wakeLane(lane: Lane): void {
    if (this.stopping) return;
    if (lane.running) {
      lane.again = true;
      return;
    }
    lane.running = this.loop(lane)
      .catch((error: unknown) =>
        this.logger.warn({ lane: lane.name, err: loggableError(error) }, 'dispatch pass failed; the next poll retries'),
      )
      .finally(() => {
        lane.running = undefined;
        if (lane.again && !this.stopping) {
          lane.again = false;
          this.wakeLane(lane);
        }
      });
  }

  /** Sends everything that is due now, every channel; returns how many deliveries were processed. For tests and tools. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const batch = await this.claim(BATCH);
      if (!batch.ids.length) return total;
      await this.send(batch);
      total += batch.ids.length;
    }
  }

  /** Claims the lane's next batch while its previous one is still sending: at most two batches in hand per lane. */
  private async loop(lane: Lane): Promise<void> {
    let previous: Promise<void> | undefined;
    while (!this.stopping) {
      const batch = await this.claim(BATCH, lane.channels);
      if (!batch.ids.length) break;
      const current = this.send(batch);
      await previous;
      previous = current;
    }
    await previous;
  }

  /**
   * One claimed batch costs a handful of statements whatever its size: load every context, write
   * every attempt row (ledger first), call the providers concurrently, then record all outcomes and
   * all status changes in one statement. If the process dies in between, the leases expire and the batch is retried.
   * While the batch is in hand its leases are extended, so a slow provider (a batch of timeouts)
   * never lets another worker claim what this one is still sending. Public for tests and tools.
   */
  async send(batch: ClaimedBatch): Promise<void> {
    const renewal = setInterval(
      () => {
        const until = new Date(this.clock.now().getTime() + this.config.deliveryLeaseSeconds * 1000);
        this.deliveries
          .renewLeases(batch.lease, batch.ids, until)
          .catch((error: unknown) => this.logger.warn({ err: loggableError(error) }, 'lease renewal failed'));
      },
      (this.config.deliveryLeaseSeconds * 1000) / 3,
    );
    const work = this.processBatch(batch)
      .catch((error: unknown) =>
        this.logger.error(
          { deliveries: batch.ids.length, err: loggableError(error) },
          'dispatch batch failed; its leases expire and it is retried',
        ),
      )
      .finally(() => clearInterval(renewal));
    this.inFlight.add(work);
    await work;
    this.inFlight.delete(work);
  }

  /** Claims up to `limit` due deliveries (of `channels`, or any) under a lease of their own. Public for tests and tools. */
  async claim(limit: number, channels?: readonly Channel[]): Promise<ClaimedBatch> {
    const now = this.clock.now();
    const lease = `${this.workerId}/${++this.batches}`;
    const until = new Date(now.getTime() + this.config.deliveryLeaseSeconds * 1000);
    return { lease, until, ids: await this.deliveries.claim(lease, limit, now, until, channels) };
  }

  private async processBatch(batch: ClaimedBatch): Promise<void> {
    // Revocations heard from now on concern this batch: it is checked against the database as it loads.
    const loadedAt = performance.now();
    const contexts = await this.contexts.loadMany(batch.ids, batch.lease);
    const changes: DeliveryChange[] = [];
    const sends: Send[] = [];
    const now = this.clock.now();
    for (const context of contexts) {
      const repeat = context.status === 'sent' || context.status === 'delivered';
      // Attempt numbers keep counting across an admin's retry; `attempts` counts only the current round.
      const send: Send = {
        context,
        attemptNo: (context.lastAttemptNo ?? 0) + 1,
        prevHash: context.lastHash,
        round: context.attempts + 1,
        repeat,
        provider: PROVIDER_NONE,
      };
      // Whatever goes wrong with one delivery is that delivery's failed attempt, never its batch's.
      try {
        if (mayNotSend(context)) {
          changes.push({ id: context.id, status: repeat ? context.status : 'suppressed', stopRepeats: true });
          continue;
        }
        // Will the alert this corrects reach this contact, or be withdrawn? Its batch is still in hand: ask again shortly
        // (or when that batch's lease runs out, if sooner).
        const undecided = correctionWaitsUntil(context);
        if (undecided) {
          const again = Math.min(undecided.getTime(), now.getTime() + CORRECTION_RECHECK_MS);
          changes.push({ id: context.id, status: 'pending', dueAt: new Date(again) });
          continue;
        }
        if (context.purpose === 'alert' && !context.urgent && context.quietHours) {
          const quiet = readQuietHours(context.quietHours);
          if (!quiet) this.logger.warn({ deliveryId: context.id }, 'stored quiet hours unreadable; the alert is not held');
          const until = quiet && quietHoursEnd(quiet, now);
          if (until) {
            changes.push({ id: context.id, status: 'held', dueAt: until });
            continue;
          }
        }
        const provider = this.providers.for(context.channel) as ChannelProvider | undefined;
        if (!provider) throw new Error('no provider for this channel');
        send.provider = provider;
      } catch (error) {
        send.failure = this.internal('internal_prepare', context.id, error);
      }
      sends.push(send);
    }

    // A batch that stalled (a long pause, no renewal) holds on to what nobody else has claimed yet
    // before it writes attempts: once the lease is renewed, no other worker can claim those rows.
    const leaseMs = this.config.deliveryLeaseSeconds * 1000;
    if (this.clock.now().getTime() > batch.until.getTime() - (leaseMs * 2) / 3) {
      await this.deliveries.renewLeases(batch.lease, batch.ids, new Date(this.clock.now().getTime() + leaseMs));
    }
    // Ledger first: every attempt exists before any provider is called. A delivery another worker has
    // claimed since this batch's lease ran out gets no attempt here, and is neither sent nor finished.
    const startedAt = this.clock.now();
    const { started, retracted } = await this.deliveries.startAttempts(
      batch.lease,
      sends.map((s) => ({ deliveryId: s.context.id, attemptNo: s.attemptNo, provider: s.provider.name, prevHash: s.prevHash })),
      startedAt,
    );
    // Retracted since the batch was loaded (its correction may not have been heard yet): never sent, as if refused when loaded.
    for (const send of sends.filter((s) => retracted.has(s.context.id)))
      changes.push({ id: send.context.id, status: send.repeat ? send.context.status : 'suppressed', stopRepeats: true });
    const owned = sends.filter((s) => started.has(s.context.id));
    if (owned.length + retracted.size < sends.length)
      this.logger.warn({ lost: sends.length - owned.length - retracted.size }, 'deliveries claimed by another worker were left to it');

    const results = await mapConcurrently(owned, this.config.dispatchConcurrency, (send) => this.attempt(send, loadedAt));

    const ends: AttemptEnd[] = owned.map((send, i) => {
      const result = results[i];
      const outcome: AttemptOutcome = result.withdrawn ? 'withdrawn' : (result.failure?.outcome ?? 'accepted');
      const facts = {
        deliveryId: send.context.id,
        attemptNo: send.attemptNo,
        startedAt,
        finishedAt: result.finishedAt,
        provider: send.provider.name,
        providerMessageId: result.providerMessageId,
        outcome,
        errorCode: result.failure?.errorCode ?? null,
        errorClass: result.failure?.errorClass ?? null,
      };
      return { ...facts, excerpt: result.excerpt, hash: attemptHash(send.prevHash, facts) };
    });
    owned.forEach((send, i) => changes.push(this.outcome(send, results[i])));
    await this.deliveries.finish(batch.lease, ends, changes, this.clock.now());
    owned.forEach((send, i) => this.metrics.attempt(send.context.channel, ends[i].outcome, results[i].seconds));
    const channelOf = new Map(contexts.map((context) => [context.id, context.channel]));
    for (const change of changes) this.metrics.deliveryProcessed(channelOf.get(change.id)!, change.status);
    await this.reports.applyEarly(changes.filter((change) => change.providerMessageId).map((change) => change.id));
  }

  /** One provider call, or why there was none; never throws. */
  private async attempt(send: Send, loadedAt: number): Promise<Result> {
    // Elapsed time from the process's monotonic clock: the injected clock says when, not how long.
    const began = performance.now();
    const done = (result: Partial<Result>): Result => ({
      providerMessageId: null,
      failure: undefined,
      withdrawn: false,
      excerpt: null,
      ...result,
      finishedAt: this.clock.now(),
      seconds: (performance.now() - began) / 1000,
    });
    if (send.failure) return done({ failure: send.failure });
    let message: OutboundMessage;
    let pending: Promise<{ providerMessageId: string | null }>;
    try {
      // Consent ended, or the person became protected, since the batch was loaded: no provider call.
      if (this.revocations.withdraws(send.context, loadedAt)) return done({ withdrawn: true });
      message = this.contexts.render(send.context);
    } catch (error) {
      return done({ failure: this.internal('internal_render', send.context.id, error) });
    }
    try {
      pending = send.provider.send(message);
    } catch (error) {
      // A provider that throws before it has a request in flight is our bug, not the provider's answer.
      return done({ failure: this.internal('internal_send', send.context.id, error) });
    }
    try {
      const { providerMessageId } = await pending;
      return done({ providerMessageId });
    } catch (error) {
      return done({
        failure: classifyError(error),
        // PostgreSQL's text refuses a NUL: kept, one byte would fail the statement recording the whole batch, every time it was sent again.
        excerpt: redactAddresses(String((error as Error)?.message ?? error))
          .replace(/\0/g, '')
          .slice(0, 300),
      });
    }
  }

  /** A failure of Vigil's own while preparing or sending one delivery: retried on the policy like a transient one, then dead. */
  private internal(errorCode: string, deliveryId: string, error: unknown): Classified {
    const failure: Classified =
      error instanceof FieldDecryptError ? classifyError(error) : { outcome: 'transient_error', errorCode, errorClass: 'internal' };
    // The error's name only: a message could quote what it failed on.
    this.logger.error(
      { deliveryId, errorCode: failure.errorCode, err: (error as Error)?.name ?? typeof error },
      'delivery could not be prepared or sent',
    );
    return failure;
  }

  private outcome(send: Send, result: Result): DeliveryChange {
    const { context, round } = send;
    const keep = send.repeat ? context.status : undefined;
    if (result.withdrawn) return { id: context.id, status: keep ?? 'suppressed', stopRepeats: true };
    const failure = result.failure;
    // An urgent phone alert calls again later unless its PIN is entered first.
    const nextCall = new Date(result.finishedAt.getTime() + this.config.voice.repeatMinutes * 60_000);
    if (!failure) {
      return {
        id: context.id,
        status: keep ?? 'sent',
        attempts: context.repeatUntil ? 0 : round,
        providerMessageId: result.providerMessageId,
        dueAt: context.repeatUntil ? nextCall : undefined,
      };
    }
    if (failure.outcome === 'permanent_error')
      return { id: context.id, status: keep ?? 'failed', attempts: round, error: failure.errorCode, stopRepeats: true };
    const policy = this.config.retry.byChannel[context.channel];
    if (round >= policy.maxAttempts) {
      // A repeating urgent call that keeps failing waits for its next regular call, never redials at once.
      if (keep) return { id: context.id, status: keep, attempts: 0, dueAt: nextCall, error: failure.errorCode };
      return { id: context.id, status: 'dead', attempts: round, error: failure.errorCode, stopRepeats: true };
    }
    const delay = backoffSeconds(round - 1, policy) * 1000;
    return {
      id: context.id,
      status: keep ?? 'pending',
      attempts: round,
      dueAt: new Date(result.finishedAt.getTime() + delay),
      error: failure.errorCode,
    };
  }
}

/** A claimed batch: its deliveries and the lease they are held under. */
export interface ClaimedBatch {
  lease: string;
  /** When the lease runs out unless renewed. */
  until: Date;
  ids: string[];
}

interface Send {
  context: DeliveryContext;
  attemptNo: number;
  prevHash: Buffer | null;
  round: number;
  repeat: boolean;
  provider: Pick<ChannelProvider, 'name' | 'send'>;
  /** Set when the delivery could not be prepared: the attempt is recorded as failed, no provider is called. */
  failure?: Classified;
}

interface Result {
  providerMessageId: string | null;
  failure: Classified | undefined;
  withdrawn: boolean;
  excerpt: string | null;
  finishedAt: Date;
  seconds: number;
}

/** The provider an attempt is recorded under when the delivery failed before one was chosen. */
const PROVIDER_NONE: Send['provider'] = {
  name: 'none',
  send: () => Promise.reject(new Error('no provider')),
};

/** Provider errors quote the recipient ("The 'To' number +1… is not valid"); the ledger keeps the error, not the address. */
export function redactAddresses(text: string): string {
  return text
    .replace(/[^\s@<>'"]+@[^\s@<>'"]+/g, '[address]')
    .replace(/\+?\(?\d[\d\s().-]{6,}\d/g, (match) => (match.replace(/\D/g, '').length >= 9 ? '[number]' : match));
}

/** Runs `work` over `items` with at most `limit` at once, keeping the order of results. */
async function mapConcurrently<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i]);
    }),
  );
  return results;
}
