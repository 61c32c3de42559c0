import type { Queryable } from '../database/queryable.js';

/** Which contacts' waiting deliveries to stop: a whole registration, one contact, or a phone number's SMS. */
export type WaitingScope = { registrationId: string } | { contactId: string } | { smsTo: Buffer[] };

/**
 * When consent ends (DELETE, unsubscribe, STOP), what has not gone yet never goes: pending and held
 * deliveries become suppressed at once. One that a worker is sending right now is checked again by
 * the dispatcher before it is rendered.
 */
export async function suppressWaitingDeliveries(db: Queryable, scope: WaitingScope, at: Date): Promise<void> {
  const [filter, value] =
    'registrationId' in scope
      ? ['c.registration_id = $1', scope.registrationId]
      : 'contactId' in scope
        ? ['c.id = $1', scope.contactId]
        : [`c.address_index = ANY($1::bytea[]) AND d.channel = 'sms'`, scope.smsTo];
  await db.query(
    `UPDATE delivery d SET status = 'suppressed', updated_at = $2, lease_owner = NULL, lease_expires_at = NULL
     FROM contact c WHERE c.id = d.contact_id AND ${filter} AND d.status IN ('pending', 'held')`,
    [value, at],
  );
}
