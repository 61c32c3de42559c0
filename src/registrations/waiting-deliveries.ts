import type { Queryable } from '../database/queryable.js';
import { announceRevocation } from './consent-revocation.js';

/** Which contacts' waiting deliveries to stop: a whole registration, one contact, or a phone number's SMS. */
export type WaitingScope = { registrationId: string } | { contactId: string } | { smsTo: Buffer[] };

/**
 * When consent ends (DELETE, unsubscribe, STOP), what has not gone yet never goes: pending and held
 * deliveries become suppressed at once, and the workers are told, so that a batch already in hand
 * sends nothing more for this scope either.
 */
export async function suppressWaitingDeliveries(db: Queryable, scope: WaitingScope, at: Date): Promise<void> {
  const [filter, value] =
    'registrationId' in scope
      ? ['c.registration_id = $1', scope.registrationId]
      : 'contactId' in scope
        ? ['c.id = $1', scope.contactId]
        : [`c.address_index = ANY($1::bytea[]) AND c.channel = 'sms'`, scope.smsTo];
  // Alerts are reached through the registration's notifications, verification codes through their own
  // small index: planning a crowded release writes no index entry for this.
  await db.query(
    `WITH target AS (SELECT c.id, c.registration_id FROM contact c WHERE ${filter})
     UPDATE delivery d SET status = 'suppressed', updated_at = $2, lease_owner = NULL, lease_expires_at = NULL
     WHERE d.status IN ('pending', 'held') AND d.id IN (
       SELECT w.id FROM target t JOIN notification n ON n.registration_id = t.registration_id
       JOIN delivery w ON w.notification_id = n.id AND w.contact_id = t.id
       UNION ALL
       SELECT w.id FROM target t JOIN delivery w ON w.contact_id = t.id AND w.notification_id IS NULL AND w.status IN ('pending', 'held'))`,
    [value, at],
  );
  await announceRevocation(db, 'smsTo' in scope ? { smsTo: scope.smsTo.map((index) => index.toString('hex')) } : scope);
}
