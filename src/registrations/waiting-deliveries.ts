import type { DeliveryRepository, WaitingScope } from '../database/delivery.repository.js';
import type { Queryable } from '../database/queryable.js';
import { announceRevocation } from './consent-revocation.js';

/**
 * When consent ends (DELETE, unsubscribe, STOP), what has not gone yet never goes: pending and held
 * deliveries become suppressed at once, and the workers are told, so that a batch already in hand
 * sends nothing more for this scope either.
 */
export async function suppressWaitingDeliveries(
  deliveries: DeliveryRepository,
  db: Queryable,
  scope: WaitingScope,
  at: Date,
): Promise<void> {
  await deliveries.suppressWaiting(db, scope, at);
  await announceRevocation(db, 'smsTo' in scope ? { smsTo: scope.smsTo.map((index) => index.toString('hex')) } : scope);
}
