import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { retryingTransaction } from '../database/retrying-transaction.js';
import { type AuditedBy, AuditService } from '../common/audit.service.js';
import { FieldCipher } from '../common/crypto/field-cipher.js';
import { DomainError } from '../common/problem/domain-error.js';
import type { StaffPrincipal } from '../auth/staff-auth.guard.js';
import { Clock } from '../common/clock.js';
import { type Channel, maskAddress } from '../registrations/contact-address.js';
import { DeliveryRepository } from '../database/delivery.repository.js';
import { verifyAttemptChains } from './ledger.js';
import { type NotificationKind, openMessage, type StoredMessage } from './victim-messages.service.js';

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
  /** `alert` or `correction` about a custody event; `enrolled` or `service`: a message staff sent, with no event. */
  kind: NotificationKind;
  eventId: string | null;
  eventType: string | null;
  /** The event's time; a message's, when it was sent. */
  occurredAt: string;
  /** A shared service's name and kind, as sent. */
  service?: { name: string; kind: string };
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
    private readonly deliveries: DeliveryRepository,
    private readonly audit: AuditService,
  ) {}

  /**
   * A registration's ledger. An alert about a person who is protected now, withheld before any
   * provider had it, is left out: a "suppressed" the registrant never asked for would tell them of
   * the protection, and without it the ledger reads as for any person with nothing new to report.
   * Attempts that never reached a provider (withdrawn, or Vigil's own failures) do not count as "had it".
   */
  async forRegistration(registrationId: string): Promise<NotificationView[]> {
    return this.views(
      `n.registration_id = $1
       -- An enrolment's confirmation is about the person its registration follows; a shared service about nobody.
       AND NOT (EXISTS (SELECT 1 FROM person p JOIN registration r ON r.id = n.registration_id
                        WHERE p.id = coalesce(e.person_id, CASE WHEN n.kind = 'enrolled' THEN r.person_id END) AND p.protected)
                AND NOT EXISTS (SELECT 1 FROM delivery sent JOIN delivery_attempt a ON a.delivery_id = sent.id
                                WHERE sent.notification_id = n.id AND a.outcome IS DISTINCT FROM 'withdrawn' AND a.provider <> 'none'
                                  AND a.error_class IS DISTINCT FROM 'internal' AND a.error_class IS DISTINCT FROM 'cipher'))`,
      [registrationId],
    );
  }

  /** One notification, for staff: a specialist only for their own enrollees. */
  async notification(id: string, staff: StaffPrincipal): Promise<NotificationView> {
    const [view] = await this.views(
      `n.id = $1 AND ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM registration r WHERE r.id = n.registration_id AND r.enrolled_by = $2))`,
      [id, staff.role === 'admin' ? null : staff.staffId],
    );
    if (!view) throw new DomainError('not_found', 'NOTIFICATION_NOT_FOUND', 'No such notification.');
    return view;
  }

  /**
   * A specialist's resend: a new round of deliveries to every contact that may receive it; the old
   * rounds stay in the ledger. While the previous resend is still waiting to go, another one is a
   * conflict: a double click queues one round and the second click is told so, never a second round.
   */
  async resend(id: string, by: { staff: StaffPrincipal; clientAddress?: string }): Promise<number> {
    await this.notification(id, by.staff);
    const result = await this.deliveries.enqueueResend(id, this.clock.now());
    if (result === 'in_progress')
      throw new DomainError('conflict', 'RESEND_IN_PROGRESS', 'A resend of this notification is already on its way.');
    await this.audit.record([
      {
        actor: by.staff,
        action: 'notification.resend',
        targetType: 'notification',
        targetId: id,
        clientAddress: by.clientAddress,
        details: { deliveries: result.queued },
      },
    ]);
    return result.queued;
  }

  private async views(where: string, params: unknown[]): Promise<NotificationView[]> {
    const rows: {
      notificationId: string;
      kind: NotificationKind;
      message: StoredMessage['message'];
      messageSealed: string | null;
      eventId: string | null;
      eventType: string | null;
      occurredAt: Date;
      escalatedAt: Date | null;
      deliveryId: string | null;
      contactId: string | null;
      channel: Channel | null;
      address: string | null;
      deliveryStatus: string | null;
      attempts: AttemptView[] | null;
    }[] = await this.db.query(
      `SELECT n.id AS "notificationId", n.kind, n.message, n.message_sealed AS "messageSealed", n.event_id AS "eventId", e.type AS "eventType",
              coalesce(e.occurred_at, n.created_at) AS "occurredAt", n.escalated_at AS "escalatedAt", d.id AS "deliveryId", d.contact_id AS "contactId", d.channel, c.address,
              d.status AS "deliveryStatus",
              (SELECT json_agg(json_build_object('attemptNo', a.attempt_no, 'startedAt', a.started_at, 'finishedAt', a.finished_at,
                                                 'outcome', a.outcome, 'providerMessageId', a.provider_message_id,
                                                 'errorCode', a.error_code, 'errorClass', a.error_class) ORDER BY a.attempt_no)
               FROM delivery_attempt a WHERE a.delivery_id = d.id) AS attempts
       FROM notification n LEFT JOIN custody_event e ON e.id = n.event_id
       LEFT JOIN delivery d ON d.notification_id = n.id LEFT JOIN contact c ON c.id = d.contact_id
       WHERE ${where}
       ORDER BY n.created_at DESC, n.id, d.round, c.position`,
      params,
    );
    const byId = new Map<string, NotificationView>();
    for (const row of rows) {
      let notification = byId.get(row.notificationId);
      if (!notification) {
        const service = openMessage(this.cipher, row.notificationId, row)?.service;
        notification = {
          notificationId: row.notificationId,
          kind: row.kind,
          ...(service && { service: { name: service.name, kind: service.kind } }),
          eventId: row.eventId,
          eventType: row.eventType,
          occurredAt: row.occurredAt.toISOString(),
          status: 'pending',
          escalated: Boolean(row.escalatedAt),
          deliveries: [],
        };
        byId.set(row.notificationId, notification);
      }
      if (row.deliveryId) {
        notification.deliveries.push({
          deliveryId: row.deliveryId,
          contactId: row.contactId!,
          channel: row.channel!,
          // Retention empties an ended registration's addresses; its ledger stays readable.
          address: row.address ? maskAddress(row.channel!, this.cipher.decrypt(row.address, 'contact.address', row.contactId!)) : '',
          status: row.deliveryStatus!,
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

  /** Each registration's newest alert, for a specialist's list: its event, its roll-up status, and whether an escalation of its alerts is open. */
  async lastAlerts(
    registrationIds: string[],
  ): Promise<{ registrationId: string; eventType: string; occurredAt: Date; status: string; escalated: boolean }[]> {
    return this.db.query(
      `SELECT DISTINCT ON (n.registration_id) n.registration_id AS "registrationId", e.type AS "eventType",
              e.occurred_at AS "occurredAt", n.status,
              -- Any of its alerts' escalations still open, not whether the newest alert ever escalated.
              EXISTS (SELECT 1 FROM escalation x JOIN notification m ON m.id = x.id
                      WHERE m.registration_id = n.registration_id AND x.resolved_at IS NULL) AS escalated
       FROM notification n JOIN custody_event e ON e.id = n.event_id
       WHERE n.registration_id = ANY($1::uuid[])
       ORDER BY n.registration_id, n.created_at DESC`,
      [registrationIds],
    );
  }

  /** Dead letters for admins. */
  async dead(
    limit = 200,
  ): Promise<{ deliveryId: string; purpose: string; channel: string; attempts: number; lastError: string | null; updatedAt: string }[]> {
    const rows: { deliveryId: string; purpose: string; channel: string; attempts: number; lastError: string | null; updatedAt: Date }[] =
      await this.db.query(
        `SELECT id AS "deliveryId", purpose, channel, attempts, last_error AS "lastError", updated_at AS "updatedAt"
         FROM delivery WHERE status = 'dead' ORDER BY updated_at DESC LIMIT $1`,
        [limit],
      );
    return rows.map((row) => ({ ...row, updatedAt: row.updatedAt.toISOString() }));
  }

  /** A dead delivery gets a fresh round of attempts; its ledger keeps the old ones. */
  async retryDead(deliveryId: string, by: AuditedBy): Promise<void> {
    await retryingTransaction(this.db, async (tx) => {
      if (!(await this.deliveries.retryDead(deliveryId, this.clock.now(), tx)))
        throw new DomainError('not_found', 'DEAD_DELIVERY_NOT_FOUND', 'No dead delivery with that id.');
      await this.audit.record(
        [{ actor: by.staff, action: 'delivery.retry', targetType: 'delivery', targetId: deliveryId, clientAddress: by.clientAddress }],
        tx,
      );
    });
  }

  /** Walks every attempt chain; returns the deliveries whose chain does not verify. */
  verifyChains(): Promise<string[]> {
    return verifyAttemptChains(this.db);
  }
}

/** Delivery statuses from least to furthest along: a notification shows its furthest delivery's. */
export const ROLLUP_ORDER = ['suppressed', 'failed', 'dead', 'pending', 'held', 'sending', 'sent', 'delivered', 'confirmed'];

/** A notification is as far along as its furthest delivery. */
function rollUp(statuses: string[]): string {
  if (!statuses.length) return 'suppressed';
  return statuses.reduce((best, status) => (ROLLUP_ORDER.indexOf(status) > ROLLUP_ORDER.indexOf(best) ? status : best), statuses[0]);
}
