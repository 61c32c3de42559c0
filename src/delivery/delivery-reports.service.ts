import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { every, stopEvery } from '../common/intervals.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { returning } from '../database/queryable.js';
import { backoffSeconds, classifyError } from './retry-policy.js';

/** Forward-only order of delivery statuses; an undelivered report applies only before `delivered`. */
const FORWARD = ['pending', 'held', 'sending', 'sent', 'delivered', 'confirmed'];

const MESSAGE_STATUS: Record<string, 'sent' | 'delivered' | 'failed'> = {
  queued: 'sent',
  sending: 'sent',
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'failed',
  failed: 'failed',
};

// A report for a message Vigil never recorded (its worker died mid-batch) is of no use after this.
const EARLY_REPORT_HOURS = 24;
const CLEANUP_MS = 10 * 60_000;

/**
 * What providers report after a send: statuses move forward only, and an undelivered message goes
 * again on its channel's backoff when the reason is transient. A report can reach Vigil before the
 * worker that sent the message has recorded its message id (ids are written once per batch); it
 * then waits in provider_report and is applied when the batch records its ids.
 */
@Injectable()
export class DeliveryReportsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(DeliveryReportsService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly scheduler: SchedulerRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (this.config.role === 'api') return;
    every(
      this.scheduler,
      'provider-report-cleanup',
      CLEANUP_MS,
      () =>
        this.db.query(`DELETE FROM provider_report WHERE received_at < $1::timestamptz - make_interval(hours => $2)`, [
          this.clock.now(),
          EARLY_REPORT_HOURS,
        ]),
      this.logger,
    );
  }

  onModuleDestroy(): void {
    stopEvery(this.scheduler, 'provider-report-cleanup');
  }

  /** A Twilio message status callback. */
  async message(id: string, sid: string, messageStatus: string, errorCode: string | undefined): Promise<void> {
    if (!MESSAGE_STATUS[messageStatus]) return;
    if (await this.applyMessage(id, sid, messageStatus, errorCode)) return;
    // Still being sent: keep the report for the worker's batch to apply once the id is recorded.
    await this.db.query(
      `INSERT INTO provider_report (delivery_id, provider_message_id, message_status, error_code, received_at)
       SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM delivery WHERE id = $1 AND status = 'sending')
       ON CONFLICT DO NOTHING`,
      [id, sid, messageStatus, errorCode ?? null, this.clock.now()],
    );
  }

  /** After a batch has recorded its message ids: the reports that arrived before them. */
  async applyEarly(deliveryIds: string[]): Promise<void> {
    if (!deliveryIds.length) return;
    const reports = await returning<{
      delivery_id: string;
      provider_message_id: string;
      message_status: string;
      error_code: string | null;
    }>(
      this.db,
      `DELETE FROM provider_report r USING delivery d
       WHERE r.delivery_id = ANY($1::uuid[]) AND d.id = r.delivery_id AND d.provider_message_id = r.provider_message_id
       RETURNING r.delivery_id, r.provider_message_id, r.message_status, r.error_code`,
      [deliveryIds],
    );
    const rank = (status: string) => FORWARD.indexOf(MESSAGE_STATUS[status]);
    for (const report of reports.sort((a, b) => rank(a.message_status) - rank(b.message_status))) {
      await this.applyMessage(report.delivery_id, report.provider_message_id, report.message_status, report.error_code ?? undefined);
    }
  }

  /** Moves a delivery forward to `next` if its current message is `sid`; false if no such message is on record. */
  async advance(id: string, sid: string, next: 'sent' | 'delivered'): Promise<boolean> {
    const matched = await returning<{ id: string }>(
      this.db,
      `UPDATE delivery SET status = CASE WHEN status = ANY($5::text[]) THEN $3 ELSE status END, updated_at = $4
       WHERE id = $1 AND provider_message_id = $2 RETURNING id`,
      [id, sid, next, this.clock.now(), FORWARD.slice(0, FORWARD.indexOf(next))],
    );
    return matched.length > 0;
  }

  private applyMessage(id: string, sid: string, messageStatus: string, errorCode: string | undefined): Promise<boolean> {
    const next = MESSAGE_STATUS[messageStatus];
    return next === 'failed' ? this.undelivered(id, sid, errorCode) : this.advance(id, sid, next);
  }

  /**
   * The carrier could not deliver a message Twilio accepted. A transient reason (a full queue, a
   * handset out of reach, an unknown code) sends it again on the channel's backoff, like a failed
   * send; a permanent one fails it, and running out of attempts makes it dead for an admin to see.
   */
  private async undelivered(id: string, sid: string, errorCode: string | undefined): Promise<boolean> {
    const rows: { attempts: number; channel: 'email' | 'sms' | 'voice'; status: string }[] = await this.db.query(
      `SELECT attempts, channel, status FROM delivery WHERE id = $1 AND provider_message_id = $2`,
      [id, sid],
    );
    if (!rows.length) return false;
    const { attempts, channel, status: current } = rows[0];
    // Only the latest finished send can be undelivered: while a retry is being sent, the id on record
    // is the previous try's, and news of it changes nothing.
    if (current !== 'sent') return true;
    const failure = classifyError({ code: Number(errorCode) || undefined });
    const policy = this.config.retry.byChannel[channel];
    const now = this.clock.now();
    const [status, dueAt] =
      failure.outcome === 'permanent_error'
        ? ['failed', null]
        : attempts >= policy.maxAttempts
          ? ['dead', null]
          : ['pending', new Date(now.getTime() + backoffSeconds(Math.max(attempts - 1, 0), policy) * 1000)];
    // Guarded by the attempts read above: a concurrent report or a new attempt leaves this one without effect.
    await this.db.query(
      `UPDATE delivery SET status = $3, due_at = coalesce($4, due_at), last_error = $5, updated_at = $6
       WHERE id = $1 AND provider_message_id = $2 AND status = 'sent' AND attempts = $7`,
      [id, sid, status, dueAt, errorCode ? `twilio_${errorCode}` : failure.errorCode, now, attempts],
    );
    return true;
  }
}
