import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { returning } from '../database/queryable.js';
import { DELIVERY_CHANNEL } from '../registrations/verification.service.js';
import { ChannelProviders } from './channels/channel-providers.js';
import { type DeliveryContext, DeliveryContextService } from './delivery-context.service.js';
import { attemptHash } from './ledger.js';
import { quietHoursEnd } from './quiet-hours.js';
import { StaffAlertsService } from './staff-alerts.service.js';
import { backoffSeconds, type Classified, classifyError } from './retry-policy.js';

const BATCH = 64;
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
  private listener?: pg.Client;
  private running?: Promise<void>;
  private again = false;
  private stopping = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly contexts: DeliveryContextService,
    private readonly providers: ChannelProviders,
    private readonly staffAlerts: StaffAlertsService,
    private readonly scheduler: SchedulerRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.role === 'api' || this.config.env === 'test') return;
    this.scheduler.addInterval(
      'dispatch-poll',
      setInterval(() => this.wake(), POLL_MS),
    );
    this.scheduler.addInterval(
      'escalation',
      setInterval(() => {
        this.staffAlerts
          .escalate()
          .catch((error: unknown) => this.logger.warn({ err: (error as Error).message }, 'escalation pass failed'));
      }, ESCALATION_CHECK_MS),
    );
    try {
      this.listener = new pg.Client({ connectionString: this.config.database.url });
      this.listener.on('notification', () => this.wake());
      this.listener.on('error', (error) => this.logger.warn({ err: error.message }, 'LISTEN connection lost; polling continues'));
      await this.listener.connect();
      await this.listener.query(`LISTEN ${DELIVERY_CHANNEL}`);
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'LISTEN unavailable; polling only');
    }
    this.wake();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    for (const name of ['dispatch-poll', 'escalation']) if (this.scheduler.doesExist('interval', name)) this.scheduler.deleteInterval(name);
    await this.listener?.end().catch(() => undefined);
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

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const claimed = await this.claim(BATCH);
      if (!claimed.length) return;
      await this.processAll(claimed);
    }
  }

  private async processAll(ids: string[]): Promise<void> {
    const queue = [...ids];
    const workers = Array.from({ length: Math.min(this.config.dispatchConcurrency, queue.length) }, async () => {
      for (let id = queue.shift(); id; id = queue.shift()) {
        const work = this.process(id).catch((error: unknown) =>
          this.logger.error(
            { deliveryId: id, err: (error as Error).message },
            'delivery processing failed; the lease will expire and it is retried',
          ),
        );
        this.inFlight.add(work);
        await work;
        this.inFlight.delete(work);
      }
    });
    await Promise.all(workers);
  }

  async claim(limit: number): Promise<string[]> {
    const now = this.clock.now();
    const rows = await returning<{ id: string }>(
      this.db,
      // A repeat call of an urgent phone alert is claimed without moving its status back.
      `UPDATE delivery SET status = CASE WHEN status IN ('sent', 'delivered') THEN status ELSE 'sending' END,
              lease_owner = $1, lease_expires_at = $2, updated_at = $3
       WHERE id IN (
         SELECT id FROM delivery
         WHERE (status IN ('pending', 'held') AND due_at <= $3)
            OR (status = 'sending' AND lease_expires_at < $3)
            OR (status IN ('sent', 'delivered') AND repeat_until > $3 AND due_at <= $3 AND (lease_expires_at IS NULL OR lease_expires_at < $3))
         ORDER BY due_at LIMIT $4 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [this.workerId, new Date(now.getTime() + this.config.deliveryLeaseSeconds * 1000), now, limit],
    );
    return rows.map((row) => row.id);
  }

  private async process(id: string): Promise<void> {
    const context = await this.contexts.load(id, this.workerId);
    if (!context) return;
    const repeat = context.status === 'sent' || context.status === 'delivered';
    if (this.blocked(context)) return this.finish(id, { status: repeat ? context.status : 'suppressed', stopRepeats: true });

    if (context.purpose === 'alert' && !context.urgent && context.quiet_hours) {
      const until = quietHoursEnd(context.quiet_hours, this.clock.now());
      if (until) return this.finish(id, { status: 'held', dueAt: until });
    }

    const message = this.contexts.render(context);
    const provider = this.providers.for(context.channel);
    // Attempt numbers keep counting across an admin's retry; `attempts` counts only the current round.
    const round = context.attempts + 1;
    const startedAt = this.clock.now();
    const [previous]: { hash: Buffer | null; attempt_no: number }[] = await this.db.query(
      `SELECT hash, attempt_no FROM delivery_attempt WHERE delivery_id = $1 ORDER BY attempt_no DESC LIMIT 1`,
      [id],
    );
    const attemptNo = (previous?.attempt_no ?? 0) + 1;
    const prevHash = previous?.hash ?? null;
    // Ledger first: the attempt exists before the provider is called.
    await this.db.query(
      `INSERT INTO delivery_attempt (delivery_id, attempt_no, started_at, provider, prev_hash) VALUES ($1, $2, $3, $4, $5)`,
      [id, attemptNo, startedAt, provider.name, prevHash],
    );

    let providerMessageId: string | null = null;
    let failure: Classified | undefined;
    let excerpt: string | null = null;
    try {
      providerMessageId = (await provider.send(message)).providerMessageId;
    } catch (error) {
      failure = classifyError(error);
      excerpt = String((error as Error)?.message ?? error).slice(0, 300);
    }
    const finishedAt = this.clock.now();
    const outcome = failure?.outcome ?? 'accepted';
    const facts = {
      deliveryId: id,
      attemptNo,
      startedAt,
      finishedAt,
      provider: provider.name,
      providerMessageId,
      outcome,
      errorCode: failure?.errorCode ?? null,
      errorClass: failure?.errorClass ?? null,
    };
    await this.db.query(
      `UPDATE delivery_attempt SET finished_at = $3, provider_message_id = $4, outcome = $5, error_code = $6, error_class = $7,
              response_excerpt = $8, hash = $9
       WHERE delivery_id = $1 AND attempt_no = $2`,
      [id, attemptNo, finishedAt, providerMessageId, outcome, facts.errorCode, facts.errorClass, excerpt, attemptHash(prevHash, facts)],
    );

    const keep = repeat ? context.status : undefined;
    if (!failure) {
      // An urgent phone alert calls again later unless its PIN is entered first.
      const nextCall = context.repeat_until ? new Date(finishedAt.getTime() + this.config.voice.repeatMinutes * 60_000) : undefined;
      return this.finish(id, { status: keep ?? 'sent', attempts: context.repeat_until ? 0 : round, providerMessageId, dueAt: nextCall });
    }
    if (failure.outcome === 'permanent_error')
      return this.finish(id, { status: 'failed', attempts: round, error: failure.errorCode, stopRepeats: true });
    if (round >= this.config.retry.maxAttempts)
      return this.finish(id, { status: keep ?? 'dead', attempts: round, error: failure.errorCode, stopRepeats: !keep });
    const delay = backoffSeconds(round - 1, this.config.retry) * 1000;
    return this.finish(id, {
      status: keep ?? 'pending',
      attempts: round,
      dueAt: new Date(finishedAt.getTime() + delay),
      error: failure.errorCode,
    });
  }

  /** Unverified contacts get only verification; stopped, unsubscribed and STOPped ones get nothing. */
  private blocked(c: DeliveryContext): boolean {
    if (c.purpose === 'staff') return false;
    if (c.registration_status === 'stopped' || c.unsubscribed_at) return true;
    if (c.channel === 'sms' && c.opted_out) return true;
    return false;
  }

  private async finish(
    id: string,
    change: { status: string; attempts?: number; dueAt?: Date; providerMessageId?: string | null; error?: string; stopRepeats?: boolean },
  ): Promise<void> {
    await this.db.query(
      `UPDATE delivery SET status = $3, attempts = coalesce($4, attempts), due_at = coalesce($5, due_at),
              provider_message_id = coalesce($6, provider_message_id), last_error = $7,
              lease_owner = NULL, lease_expires_at = NULL, updated_at = $8,
              repeat_until = CASE WHEN $9 THEN NULL ELSE repeat_until END
       WHERE id = $1 AND lease_owner = $2`,
      [
        id,
        this.workerId,
        change.status,
        change.attempts ?? null,
        change.dueAt ?? null,
        change.providerMessageId ?? null,
        change.error ?? null,
        this.clock.now(),
        change.stopRepeats ?? false,
      ],
    );
  }
}
