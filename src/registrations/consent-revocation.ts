import type { Queryable } from '../database/queryable.js';

/** The channel on which workers hear that consent ended, a person became protected or an event was retracted. */
export const REVOCATION_CHANNEL = 'vigil_revoked';

/**
 * Whose messages must stop: a registration, one contact, phone numbers (blind indexes, hex) for
 * SMS, a person, or the alerts about an event a CORRECTION retracted.
 */
export type Revocation =
  { registrationId: string } | { contactId: string } | { smsTo: string[] } | { personId: string } | { eventId: string };

/**
 * Tells every worker, when the caller's transaction commits, that messages for this scope must not
 * go out, including those in a batch already in hand: waiting deliveries are suppressed in the
 * database, but a worker re-reads nothing between loading a batch and its last provider call.
 */
export async function announceRevocation(db: Queryable, revocation: Revocation): Promise<void> {
  await db.query(`SELECT pg_notify($1, $2)`, [REVOCATION_CHANNEL, JSON.stringify(revocation)]);
}
