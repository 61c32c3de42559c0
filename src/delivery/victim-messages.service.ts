import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { type AuditedBy, AuditService } from '../common/audit.service.js';
import { Clock } from '../common/clock.js';
import { FieldCipher } from '../common/crypto/field-cipher.js';
import { DELIVERY_CHANNEL } from '../database/delivery.repository.js';
import type { Queryable } from '../database/queryable.js';
import { retryingTransaction } from '../database/retrying-transaction.js';
import type { SharedService } from '../i18n/alerts.js';

/** What a notification is: an alert or correction about a custody event, or a message staff sent outside any event. */
export type NotificationKind = 'alert' | 'correction' | 'enrolled' | 'service';

/** A message staff send a victim: the confirmation of an enrolment, or a service from the directory as it is now. */
export type VictimMessage = { kind: 'enrolled' } | { kind: 'service'; service: SharedService };

/** As a notification row stores a message: the kind alone in plain `message`, the whole copy sealed. */
export interface StoredMessage {
  message: { service?: Partial<SharedService> } | null;
  messageSealed: string | null;
}

/** What a message carried, unsealed (a copy from before sealing is read as it was stored). */
export function openMessage(cipher: FieldCipher, notificationId: string, stored: StoredMessage): { service?: SharedService } | null {
  if (stored.messageSealed)
    return JSON.parse(cipher.decrypt(stored.messageSealed, 'notification.message_sealed', notificationId)) as { service?: SharedService };
  return stored.message as { service?: SharedService } | null;
}

export interface SentMessage {
  notificationId: string;
  /** Deliveries queued: one per verified contact that may receive it (none when every contact has opted out). */
  queued: number;
}

/**
 * Messages staff send a victim go through the ledger like alerts: a notification (with no event),
 * a delivery per contact, every attempt recorded, resendable. They are never urgent: quiet hours
 * hold them, and they never escalate.
 */
@Injectable()
export class VictimMessagesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly cipher: FieldCipher,
  ) {}

  /**
   * Queues `message` to every contact of an active registration that may receive it, in `tx` when
   * given (an enrolment and its confirmation commit together), audited as sent by `by`. Undefined
   * when the registration is not active.
   */
  async send(registrationId: string, message: VictimMessage, by: AuditedBy, tx?: Queryable): Promise<SentMessage | undefined> {
    const run = async (db: Queryable) => {
      const now = this.clock.now();
      // The id is made here, as the copy is sealed to it before the row exists.
      const id = randomUUID();
      const rows: { notificationId: string; queued: number }[] = await db.query(
        `WITH notified AS (
           INSERT INTO notification (id, event_id, registration_id, kind, urgent, message, message_sealed, sent_by, created_at)
           SELECT $7, NULL, r.id, $2, false, $3::jsonb, $8, $4, $5 FROM registration r WHERE r.id = $1 AND r.status = 'active'
           RETURNING id, registration_id
         ), queued AS (
           INSERT INTO delivery (purpose, notification_id, contact_id, channel, due_at, created_at, updated_at)
           SELECT 'alert', n.id, c.id, c.channel, $5, $5, $5
           FROM notified n JOIN contact c ON c.registration_id = n.registration_id
           WHERE c.verified_at IS NOT NULL AND c.unsubscribed_at IS NULL
             AND NOT (c.channel = 'sms' AND EXISTS (SELECT 1 FROM phone_opt_out o WHERE o.address_index = c.address_index))
           RETURNING id
         )
         SELECT n.id AS "notificationId", (SELECT count(*) FROM queued)::int AS queued,
                (SELECT 1 FROM pg_notify($6, 'due')) AS announced
         FROM notified n`,
        [
          registrationId,
          message.kind,
          message.kind === 'service' ? JSON.stringify({ service: { kind: message.service.kind } }) : null,
          by.staff.staffId,
          now,
          DELIVERY_CHANNEL,
          id,
          message.kind === 'service'
            ? this.cipher.encrypt(JSON.stringify({ service: message.service }), 'notification.message_sealed', id)
            : null,
        ],
      );
      const sent = rows[0];
      if (!sent) return undefined;
      await this.audit.record(
        [
          {
            actor: by.staff,
            action: 'message.send',
            targetType: 'notification',
            targetId: sent.notificationId,
            clientAddress: by.clientAddress,
            details: { kind: message.kind, registrationId, queued: sent.queued },
          },
        ],
        db,
      );
      return { notificationId: sent.notificationId, queued: sent.queued };
    };
    return tx ? run(tx) : retryingTransaction(this.db, run);
  }
}
