import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { every, stopEvery } from '../common/intervals.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DeliveryRepository } from '../database/delivery.repository.js';
import { type Queryable, returning } from '../database/queryable.js';
import { retryingTransaction } from '../database/retrying-transaction.js';
import { firstTimeHeard } from '../common/twilio-replay.js';
import { backoffSeconds, classifyError } from './retry-policy.js';

/** What Twilio says about a message or a call after the send (the callback's fields Vigil uses). */
export type ProviderReport =
  | { kind: 'message'; status: string; errorCode?: string }
  | { kind: 'call'; status: string; /** a person picked up and the call lasted */ answered: boolean };

const MESSAGE_STATUS: Record<string, 'sent' | 'delivered' | 'failed'> = {
  queued: 'sent',
  sending: 'sent',
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'failed',
  failed: 'failed',
};
const REPORT_ORDER = ['sent', 'delivered', 'failed'];
// 'machine': completed, but not by a person Twilio recognised (see the webhook); the alert was not heard.
const CALL_FAILED = new Set(['busy', 'no-answer', 'failed', 'canceled', 'machine']);

// A report for a message Vigil never recorded (its worker died mid-batch) is of no use after this.
const EARLY_REPORT_HOURS = 24;
const CLEANUP_MS = 10 * 60_000;
// Status and PIN callbacks are kept as heard well past anything they could still change (a
// delivery's repeat calls end after VOICE_REPEAT_HOURS); a later replay finds the delivery's own guards.
const HEARD_DAYS = 7;

/**
 * What providers report after a send: statuses move forward only; an undelivered message goes
 * again on its channel's backoff when the reason is transient; an answered urgent call is repeated
 * less often, an unanswered ordinary one fails. A report can reach Vigil before the worker that
 * sent the message has recorded its id (ids are written once per batch), a repeat call's as much
 * as a first send's; it then waits in provider_report and is applied when the batch records its ids.
 */
@Injectable()
export class DeliveryReportsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(DeliveryReportsService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly deliveries: DeliveryRepository,
    private readonly scheduler: SchedulerRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (this.config.role === 'api') return;
    every(
      this.scheduler,
      'provider-report-cleanup',
      CLEANUP_MS,
      async () => {
        await this.applyStranded();
        await this.db.query(`DELETE FROM provider_report WHERE received_at < $1::timestamptz - make_interval(hours => $2)`, [
          this.clock.now(),
          EARLY_REPORT_HOURS,
        ]);
        // Inbound STOP/START stay heard for good: a replayed STOP must never opt a number out again.
        await this.db.query(
          `DELETE FROM twilio_callback_heard WHERE heard_at < $1::timestamptz - make_interval(days => $2) AND event <> 'inbound'`,
          [this.clock.now(), HEARD_DAYS],
        );
      },
      this.logger,
    );
  }

  onModuleDestroy(): void {
    stopEvery(this.scheduler, 'provider-report-cleanup');
  }

  /**
   * A Twilio status callback for delivery `id` about message or call `sid`. Each (sid, status) is
   * applied once: a replayed callback verifies like the original and changes nothing.
   */
  async report(id: string, sid: string, report: ProviderReport): Promise<void> {
    if (!isNews(report)) return;
    await retryingTransaction(this.db, async (tx) => {
      if (!(await firstTimeHeard(tx, sid, `${report.kind}:${report.status}`, this.clock.now()))) return;
      const inHand = await this.deliveries.holdForReport(tx, id);
      if (await this.apply(tx, id, sid, report)) return;
      if (!inHand) return;
      // Still being sent (a first send, or a repeat call): kept for the worker's batch to apply once the id is recorded.
      await tx.query(
        `INSERT INTO provider_report (delivery_id, provider_message_id, kind, status, error_code, answered, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
        [
          id,
          sid,
          report.kind,
          report.status,
          report.kind === 'message' ? (report.errorCode ?? null) : null,
          report.kind === 'call' && report.answered,
          this.clock.now(),
        ],
      );
    });
  }

  /**
   * After a batch has recorded its message ids: the reports that arrived before them, taken and
   * applied in one transaction, so a failure (a lost connection, a killed worker) leaves them kept.
   */
  async applyEarly(deliveryIds: string[]): Promise<void> {
    if (!deliveryIds.length) return;
    await retryingTransaction(this.db, (tx) => this.applyKept(tx, deliveryIds));
  }

  /** Kept reports whose batch recorded the message but did not apply them (it failed or died first). Public for tests. */
  async applyStranded(): Promise<void> {
    const rows: { id: string }[] = await this.db.query(
      `SELECT DISTINCT r.delivery_id AS id FROM provider_report r
       JOIN delivery d ON d.id = r.delivery_id AND d.provider_message_id = r.provider_message_id AND d.lease_owner IS NULL`,
    );
    await this.applyEarly(rows.map((row) => row.id));
  }

  private async applyKept(tx: Queryable, deliveryIds: string[]): Promise<void> {
    const rows = await returning<{
      deliveryId: string;
      providerMessageId: string;
      kind: 'message' | 'call';
      status: string;
      errorCode: string | null;
      answered: boolean;
    }>(
      tx,
      `DELETE FROM provider_report r USING delivery d
       WHERE r.delivery_id = ANY($1::uuid[]) AND d.id = r.delivery_id AND d.provider_message_id = r.provider_message_id
       RETURNING r.delivery_id AS "deliveryId", r.provider_message_id AS "providerMessageId", r.kind, r.status, r.error_code AS "errorCode", r.answered`,
      [deliveryIds],
    );
    // Oldest news first: a message's reports in the order the statuses are reached.
    const rank = (row: (typeof rows)[number]) => (row.kind === 'message' ? REPORT_ORDER.indexOf(MESSAGE_STATUS[row.status]) : 0);
    for (const row of rows.sort((a, b) => rank(a) - rank(b))) {
      const report: ProviderReport =
        row.kind === 'message'
          ? { kind: 'message', status: row.status, errorCode: row.errorCode ?? undefined }
          : { kind: 'call', status: row.status, answered: row.answered };
      await this.apply(tx, row.deliveryId, row.providerMessageId, report);
    }
  }

  /** Applies a report to delivery `id`; false when `sid` is not (yet) the message on record there. */
  private async apply(db: Queryable, id: string, sid: string, report: ProviderReport): Promise<boolean> {
    const now = this.clock.now();
    if (!isNews(report)) return true;
    if (report.kind === 'message') {
      const next = MESSAGE_STATUS[report.status];
      return next === 'failed' ? this.undelivered(db, id, sid, report.errorCode) : this.deliveries.markDelivered(db, id, sid, now);
    }
    if (report.status === 'completed' && report.answered) {
      // Answered but the PIN was not entered: an urgent call comes again, less often.
      const later = new Date(now.getTime() + this.config.voice.repeatAnsweredMinutes * 60_000);
      return this.deliveries.markDelivered(db, id, sid, now, later);
    }
    return this.deliveries.markCallFailed(db, id, sid, `call_${report.status}`, now);
  }

  /**
   * The carrier could not deliver a message Twilio accepted. A transient reason (a full queue, a
   * handset out of reach, an unknown code) sends it again on the channel's backoff, like a failed
   * send; a permanent one fails it, and running out of attempts makes it dead for an admin to see.
   */
  private async undelivered(db: Queryable, id: string, sid: string, errorCode: string | undefined): Promise<boolean> {
    const candidate = await this.deliveries.undeliveredCandidate(db, id, sid);
    if (!candidate) return false;
    if (!candidate.reportable) return true;
    const { attempts, channel } = candidate;
    const failure = classifyError({ code: Number(errorCode) || undefined });
    const policy = this.config.retry.byChannel[channel];
    const now = this.clock.now();
    const [status, dueAt] =
      failure.outcome === 'permanent_error'
        ? (['failed', null] as const)
        : attempts >= policy.maxAttempts
          ? (['dead', null] as const)
          : (['pending', new Date(now.getTime() + backoffSeconds(Math.max(attempts - 1, 0), policy) * 1000)] as const);
    const error = errorCode ? `twilio_${errorCode}` : failure.errorCode;
    await this.deliveries.markUndelivered(db, id, sid, { status, dueAt, error, attempts }, now);
    return true;
  }
}

/**
 * Whether a report can change anything. "Sent" and the statuses before it are no news: the worker
 * recorded the provider's acceptance itself, and a late one must not undo an undelivered retry.
 */
function isNews(report: ProviderReport): boolean {
  if (report.kind === 'message') return MESSAGE_STATUS[report.status] === 'delivered' || MESSAGE_STATUS[report.status] === 'failed';
  return (report.status === 'completed' && report.answered) || CALL_FAILED.has(report.status);
}
