import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { FieldCipher } from '../common/crypto/field-cipher.js';
import { DomainError } from '../common/problem/domain-error.js';
import { Clock } from '../common/clock.js';
import { type Channel, maskAddress } from '../registrations/contact-address.js';
import { DELIVERY_CHANNEL } from '../registrations/verification.service.js';
import { attemptHash } from './ledger.js';

export interface AttemptView {
  attemptNo: number;
  startedAt: string;
  finishedAt: string | null;
  outcome: string | null;
  providerMessageId: string | null;
  errorCode: string | null;
  errorClass: string | null;
}

export interface DeliveryView {
  deliveryId: string;
  contactId: string;
  channel: Channel;
  address: string;
  status: string;
  attempts: AttemptView[];
}

export interface NotificationView {
  notificationId: string;
  eventId: string;
  eventType: string;
  occurredAt: string;
  status: string;
  escalated: boolean;
  deliveries: DeliveryView[];
}

/** The ledger: what was planned for a registration, every delivery and every attempt, as recorded. */
@Injectable()
export class LedgerService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly cipher: FieldCipher,
    private readonly clock: Clock,
  ) {}

  async forRegistration(registrationId: string): Promise<NotificationView[]> {
    const rows: {
      notification_id: string;
      event_id: string;
      event_type: string;
      occurred_at: Date;
      escalated_at: Date | null;
      delivery_id: string | null;
      contact_id: string | null;
      channel: Channel | null;
      address: string | null;
      delivery_status: string | null;
      attempts: AttemptView[] | null;
    }[] = await this.db.query(
      `SELECT n.id AS notification_id, n.event_id, e.type AS event_type, e.occurred_at, n.escalated_at,
              d.id AS delivery_id, d.contact_id, d.channel, c.address, d.status AS delivery_status,
              (SELECT json_agg(json_build_object('attemptNo', a.attempt_no, 'startedAt', a.started_at, 'finishedAt', a.finished_at,
                                                 'outcome', a.outcome, 'providerMessageId', a.provider_message_id,
                                                 'errorCode', a.error_code, 'errorClass', a.error_class) ORDER BY a.attempt_no)
               FROM delivery_attempt a WHERE a.delivery_id = d.id) AS attempts
       FROM notification n JOIN custody_event e ON e.id = n.event_id
       LEFT JOIN delivery d ON d.notification_id = n.id LEFT JOIN contact c ON c.id = d.contact_id
       WHERE n.registration_id = $1
       ORDER BY n.created_at DESC, n.id, c.position`,
      [registrationId],
    );
    const byId = new Map<string, NotificationView>();
    for (const row of rows) {
      let notification = byId.get(row.notification_id);
      if (!notification) {
        notification = {
          notificationId: row.notification_id,
          eventId: row.event_id,
          eventType: row.event_type,
          occurredAt: row.occurred_at.toISOString(),
          status: 'pending',
          escalated: Boolean(row.escalated_at),
          deliveries: [],
        };
        byId.set(row.notification_id, notification);
      }
      if (row.delivery_id) {
        notification.deliveries.push({
          deliveryId: row.delivery_id,
          contactId: row.contact_id!,
          channel: row.channel!,
          address: maskAddress(row.channel!, this.cipher.decrypt(row.address!)),
          status: row.delivery_status!,
          attempts: (row.attempts ?? []).map((a) => ({
            ...a,
            startedAt: new Date(a.startedAt).toISOString(),
            finishedAt: a.finishedAt ? new Date(a.finishedAt).toISOString() : null,
          })),
        });
      }
    }
    for (const notification of byId.values()) notification.status = rollUp(notification.deliveries.map((d) => d.status));
    return [...byId.values()];
  }

  /** Dead letters for admins. */
  async dead(
    limit = 200,
  ): Promise<{ deliveryId: string; purpose: string; channel: string; attempts: number; lastError: string | null; updatedAt: string }[]> {
    const rows: { id: string; purpose: string; channel: string; attempts: number; last_error: string | null; updated_at: Date }[] =
      await this.db.query(
        `SELECT id, purpose, channel, attempts, last_error, updated_at FROM delivery WHERE status = 'dead' ORDER BY updated_at DESC LIMIT $1`,
        [limit],
      );
    return rows.map((r) => ({
      deliveryId: r.id,
      purpose: r.purpose,
      channel: r.channel,
      attempts: r.attempts,
      lastError: r.last_error,
      updatedAt: r.updated_at.toISOString(),
    }));
  }

  /** A dead delivery gets a fresh round of attempts; its ledger keeps the old ones. */
  async retryDead(deliveryId: string): Promise<void> {
    const rows: unknown[] = await this.db.query(
      `WITH revived AS (
         UPDATE delivery SET status = 'pending', due_at = $2, attempts = 0, updated_at = $2 WHERE id = $1 AND status = 'dead' RETURNING id
       ) SELECT id, pg_notify($3, 'due') FROM revived`,
      [deliveryId, this.clock.now(), DELIVERY_CHANNEL],
    );
    if (!rows.length) throw new DomainError('not_found', 'DEAD_DELIVERY_NOT_FOUND', 'No dead delivery with that id.');
  }

  /** Walks every attempt chain; returns the deliveries whose chain does not verify. */
  async verifyChains(): Promise<string[]> {
    const rows: {
      delivery_id: string;
      attempt_no: number;
      started_at: Date;
      finished_at: Date | null;
      provider: string;
      provider_message_id: string | null;
      outcome: string | null;
      error_code: string | null;
      error_class: string | null;
      prev_hash: Buffer | null;
      hash: Buffer | null;
    }[] = await this.db.query(`SELECT * FROM delivery_attempt WHERE outcome IS NOT NULL ORDER BY delivery_id, attempt_no`);
    const broken = new Set<string>();
    let prev: { delivery: string; hash: Buffer | null } | undefined;
    for (const row of rows) {
      const expectedPrev = prev?.delivery === row.delivery_id ? prev.hash : null;
      const facts = {
        deliveryId: row.delivery_id,
        attemptNo: row.attempt_no,
        startedAt: row.started_at,
        finishedAt: row.finished_at!,
        provider: row.provider,
        providerMessageId: row.provider_message_id,
        outcome: row.outcome!,
        errorCode: row.error_code,
        errorClass: row.error_class,
      };
      const prevMatches = (expectedPrev === null && row.prev_hash === null) || Boolean(expectedPrev && row.prev_hash?.equals(expectedPrev));
      if (!prevMatches || !row.hash?.equals(attemptHash(row.prev_hash, facts))) broken.add(row.delivery_id);
      prev = { delivery: row.delivery_id, hash: row.hash };
    }
    return [...broken];
  }
}

const ORDER = ['suppressed', 'failed', 'dead', 'pending', 'held', 'sending', 'sent', 'delivered', 'confirmed'];

/** A notification is as far along as its furthest delivery. */
function rollUp(statuses: string[]): string {
  if (!statuses.length) return 'suppressed';
  return statuses.reduce((best, status) => (ORDER.indexOf(status) > ORDER.indexOf(best) ? status : best), statuses[0]);
}
