import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { every, stopEvery } from '../common/intervals.js';
import { MANUAL_DISPATCH } from '../common/manual-dispatch.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { type Listener, listenOn } from '../database/listen.js';
import { returning } from '../database/queryable.js';
import { DELIVERY_CHANNEL } from '../registrations/verification.service.js';
import { ChannelProviders } from './channels/channel-providers.js';
import { type DeliveryContext, DeliveryContextService, mayNotSend } from './delivery-context.service.js';
import { DeliveryReportsService } from './delivery-reports.service.js';
import { attemptHash } from './ledger.js';
import { quietHoursEnd } from './quiet-hours.js';
import { RevocationsService } from './revocations.service.js';
import { StaffAlertsService } from './staff-alerts.service.js';
import { backoffSeconds, type Classified, classifyError } from './retry-policy.js';

const BATCH = 256;
const POLL_MS = 1_000;
const ESCALATION_CHECK_MS = 15_000;

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
  private listener?: Listener;
  private running?: Promise<void>;
  private again = false;
  private stopping = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly contexts: DeliveryContextService,
    private readonly reports: DeliveryReportsService,
    private readonly providers: ChannelProviders,
    private readonly staffAlerts: StaffAlertsService,
    private readonly revocations: RevocationsService,
    private readonly scheduler: SchedulerRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(MANUAL_DISPATCH) private readonly manualDispatch: boolean,
  ) {
    revocations.watchLeasesOf(this.workerId);
  }

  async onModuleInit(): Promise<void> {
    if (this.config.role === 'api' || this.manualDispatch) return;
    every(this.scheduler, 'dispatch-poll', POLL_MS, () => Promise.resolve(this.wake()), this.logger);
    every(this.scheduler, 'escalation', ESCALATION_CHECK_MS, () => this.staffAlerts.escalate(), this.logger);
    this.listener = await listenOn(this.config.database.url, DELIVERY_CHANNEL, {
      onMessage: () => this.wake(),
      onLost: (error) => this.logger.warn({ err: error.message }, 'LISTEN connection lost; polling continues, reconnecting'),
      // A wake-up may have been missed meanwhile: look once now rather than at the next poll.
      onReconnected: () => this.wake(),
    });
    this.wake();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    stopEvery(this.scheduler, 'dispatch-poll', 'escalation');
    await this.listener?.close();
    await this.running?.catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    // Whatever this worker still holds goes back to the queue at once rather than after the lease.
    await this.db
      .query(
        `UPDATE delivery SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1 AND status = 'sending'`,
        [this.workerId],
      )
      .catch(() => undefined);
    await this.providers.close();
  }

  /** Starts a drain unless one is running; a wake during a drain makes it go round once more. */
  wake(): void {
    if (this.stopping) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop()
      .catch((error: unknown) => this.logger.warn({ err: (error as Error).message }, 'dispatch pass failed; the next poll retries'))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopping) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Sends everything that is due now; returns how many deliveries were processed. For tests and tools. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const claimed = await this.claim(BATCH);
      if (!claimed.length) return total;
      await this.processAll(claimed);
      total += claimed.length;
    }
  }

  /** Claims the next batch while the previous one is still sending: at most two batches in hand. */
  private async loop(): Promise<void> {
    let previous: Promise<void> | undefined;
    while (!this.stopping) {
      const claimed = await this.claim(BATCH);
      if (!claimed.length) break;
      const current = this.processAll(claimed);
      await previous;
      previous = current;
    }
    await previous;
  }

  /**
   * One claimed batch costs a handful of statements whatever its size: load every context, write
   * every attempt row (ledger first), call the providers concurrently, then record all outcomes and
   * all status changes. If the process dies in between, the leases expire and the batch is retried.
   * While the batch is in hand its leases are extended, so a slow provider (a batch of timeouts)
   * never lets another worker claim what this one is still sending.
   */
  private async processAll(ids: string[]): Promise<void> {
    const renewal = setInterval(
      () => {
        this.renewLeases(ids).catch((error: unknown) => this.logger.warn({ err: (error as Error).message }, 'lease renewal failed'));
      },
      (this.config.deliveryLeaseSeconds * 1000) / 3,
    );
    const work = this.processBatch(ids)
      .catch((error: unknown) =>
        this.logger.error(
          { deliveries: ids.length, err: (error as Error).message },
          'dispatch batch failed; its leases expire and it is retried',
        ),
      )
      .finally(() => clearInterval(renewal));
    this.inFlight.add(work);
    await work;
    this.inFlight.delete(work);
  }

  private async renewLeases(ids: string[]): Promise<void> {
    const until = new Date(this.clock.now().getTime() + this.config.deliveryLeaseSeconds * 1000);
    await this.db.query(`UPDATE delivery SET lease_expires_at = $3 WHERE id = ANY($1::uuid[]) AND lease_owner = $2`, [
      ids,
      this.workerId,
      until,
    ]);
  }

  async claim(limit: number): Promise<string[]> {
    const now = this.clock.now();
    // Each kind of due work is read in due order from its own partial index, so a claim costs the
    // same however many deliveries the table holds. A repeat call of an urgent phone alert is
    // claimed without moving its status back.
    const rows = await returning<{ id: string }>(
      this.db,
      `WITH waiting AS (
         SELECT id, due_at FROM delivery
         WHERE status IN ('pending', 'held') AND due_at <= $3
         ORDER BY due_at LIMIT $4 FOR UPDATE SKIP LOCKED
       ), expired AS (
         -- A worker died holding these (or is too slow to renew): another one sends them.
         SELECT id, due_at FROM delivery
         WHERE status = 'sending' AND lease_expires_at < $3
         ORDER BY lease_expires_at LIMIT $4 FOR UPDATE SKIP LOCKED
       ), repeating AS (
         SELECT id, due_at FROM delivery
         WHERE repeat_until IS NOT NULL AND status IN ('sent', 'delivered')
           AND repeat_until > $3 AND due_at <= $3 AND (lease_expires_at IS NULL OR lease_expires_at < $3)
         ORDER BY due_at LIMIT $4 FOR UPDATE SKIP LOCKED
       ), picked AS (
         SELECT id FROM (SELECT * FROM waiting UNION ALL SELECT * FROM expired UNION ALL SELECT * FROM repeating) due ORDER BY due_at LIMIT $4
       )
       UPDATE delivery d SET status = CASE WHEN d.status IN ('sent', 'delivered') THEN d.status ELSE 'sending' END,
              lease_owner = $1, lease_expires_at = $2, updated_at = $3
       WHERE d.id = ANY (ARRAY(SELECT id FROM picked))
       RETURNING d.id`,
      [this.workerId, new Date(now.getTime() + this.config.deliveryLeaseSeconds * 1000), now, limit],
    );
    return rows.map((row) => row.id);
  }

  private async processBatch(ids: string[]): Promise<void> {
    // Revocations heard from now on concern this batch: it is checked against the database as it loads.
    const loadedAt = performance.now();
    const contexts = await this.contexts.loadMany(ids, this.workerId);
    const changes: Change[] = [];
    const sends: { context: DeliveryContext; attemptNo: number; prevHash: Buffer | null; round: number; repeat: boolean }[] = [];
    const now = this.clock.now();
    for (const context of contexts) {
      const repeat = context.status === 'sent' || context.status === 'delivered';
      if (mayNotSend(context)) {
        changes.push({ id: context.id, status: repeat ? context.status : 'suppressed', stopRepeats: true });
        continue;
      }
      if (context.purpose === 'alert' && !context.urgent && context.quiet_hours) {
        const until = quietHoursEnd(context.quiet_hours, now);
        if (until) {
          changes.push({ id: context.id, status: 'held', dueAt: until });
          continue;
        }
      }
      // Attempt numbers keep counting across an admin's retry; `attempts` counts only the current round.
      sends.push({
        context,
        attemptNo: (context.last_attempt_no ?? 0) + 1,
        prevHash: context.last_hash,
        round: context.attempts + 1,
        repeat,
      });
    }

    const startedAt = this.clock.now();
    const prepared = sends.map((send) => ({ ...send, provider: this.providers.for(send.context.channel) }));
    if (prepared.length) {
      // Ledger first: every attempt exists before any provider is called.
      await this.db.query(
        `INSERT INTO delivery_attempt (delivery_id, attempt_no, started_at, provider, prev_hash)
         SELECT d, n, $3, p, h FROM unnest($1::uuid[], $2::int[], $4::text[], $5::bytea[]) AS v(d, n, p, h)`,
        [
          prepared.map((s) => s.context.id),
          prepared.map((s) => s.attemptNo),
          startedAt,
          prepared.map((s) => s.provider.name),
          prepared.map((s) => s.prevHash),
        ],
      );
    }

    const results = await mapConcurrently(prepared, this.config.dispatchConcurrency, async (send) => {
      // Consent ended, or the person became protected, since the batch was loaded: no provider call.
      if (this.revocations.withdraws(send.context, loadedAt))
        return { providerMessageId: null, failure: undefined, withdrawn: true, excerpt: null, finishedAt: this.clock.now() };
      try {
        const { providerMessageId } = await send.provider.send(this.contexts.render(send.context));
        return { providerMessageId, failure: undefined, withdrawn: false, excerpt: null, finishedAt: this.clock.now() };
      } catch (error) {
        return {
          providerMessageId: null,
          failure: classifyError(error),
          withdrawn: false,
          excerpt: redactAddresses(String((error as Error)?.message ?? error)).slice(0, 300),
          finishedAt: this.clock.now(),
        };
      }
    });

    const finished = prepared.map((send, i) => {
      const result = results[i];
      const facts = {
        deliveryId: send.context.id,
        attemptNo: send.attemptNo,
        startedAt,
        finishedAt: result.finishedAt,
        provider: send.provider.name,
        providerMessageId: result.providerMessageId,
        outcome: result.withdrawn ? 'withdrawn' : (result.failure?.outcome ?? 'accepted'),
        errorCode: result.failure?.errorCode ?? null,
        errorClass: result.failure?.errorClass ?? null,
      };
      return { facts, excerpt: result.excerpt, hash: attemptHash(send.prevHash, facts) };
    });
    if (finished.length) {
      await this.db.query(
        `UPDATE delivery_attempt a SET finished_at = v.finished_at, provider_message_id = v.pmid, outcome = v.outcome,
                error_code = v.code, error_class = v.class, response_excerpt = v.excerpt, hash = v.hash
         FROM unnest($1::uuid[], $2::int[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bytea[])
              AS v(delivery_id, attempt_no, finished_at, pmid, outcome, code, class, excerpt, hash)
         WHERE a.delivery_id = v.delivery_id AND a.attempt_no = v.attempt_no AND a.delivery_id = ANY($1::uuid[])`,
        [
          finished.map((f) => f.facts.deliveryId),
          finished.map((f) => f.facts.attemptNo),
          finished.map((f) => f.facts.finishedAt),
          finished.map((f) => f.facts.providerMessageId),
          finished.map((f) => f.facts.outcome),
          finished.map((f) => f.facts.errorCode),
          finished.map((f) => f.facts.errorClass),
          finished.map((f) => f.excerpt),
          finished.map((f) => f.hash),
        ],
      );
    }

    prepared.forEach((send, i) => changes.push(this.outcome(send, results[i])));
    await this.finishMany(changes);
    await this.reports.applyEarly(changes.filter((change) => change.providerMessageId).map((change) => change.id));
  }

  private outcome(
    send: { context: DeliveryContext; round: number; repeat: boolean },
    result: { providerMessageId: string | null; failure: Classified | undefined; withdrawn: boolean; finishedAt: Date },
  ): Change {
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
        attempts: context.repeat_until ? 0 : round,
        providerMessageId: result.providerMessageId,
        dueAt: context.repeat_until ? nextCall : undefined,
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

  private async finishMany(changes: Change[]): Promise<void> {
    if (!changes.length) return;
    await this.db.query(
      // Statuses only move forward: a PIN entered or a delivery report received while the batch was
      // in hand (confirmed, delivered) is not overwritten by the send's own "sent".
      `UPDATE delivery d SET status = CASE WHEN d.status = 'confirmed' OR (d.status = 'delivered' AND v.status = 'sent') THEN d.status
                                           ELSE v.status END,
              attempts = coalesce(v.attempts, d.attempts), due_at = coalesce(v.due_at, d.due_at),
              provider_message_id = coalesce(v.pmid, d.provider_message_id), last_error = v.error,
              lease_owner = NULL, lease_expires_at = NULL, updated_at = $2,
              repeat_until = CASE WHEN v.stop THEN NULL ELSE d.repeat_until END
       FROM unnest($3::uuid[], $4::text[], $5::int[], $6::timestamptz[], $7::text[], $8::text[], $9::boolean[], $1::text[])
            AS v(id, status, attempts, due_at, pmid, error, stop, owner)
       -- The lease is compared through v, not with a constant: an estimate of "one row holds this
       -- lease" made the planner rescan v once per row of the batch.
       WHERE d.id = v.id AND d.id = ANY($3::uuid[]) AND d.lease_owner = v.owner`,
      [
        changes.map(() => this.workerId),
        this.clock.now(),
        changes.map((c) => c.id),
        changes.map((c) => c.status),
        changes.map((c) => c.attempts ?? null),
        changes.map((c) => c.dueAt ?? null),
        changes.map((c) => c.providerMessageId ?? null),
        changes.map((c) => c.error ?? null),
        changes.map((c) => c.stopRepeats ?? false),
      ],
    );
  }
}

interface Change {
  id: string;
  status: string;
  attempts?: number;
  dueAt?: Date;
  providerMessageId?: string | null;
  error?: string;
  stopRepeats?: boolean;
}

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
