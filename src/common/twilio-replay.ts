import type { Queryable } from '../database/queryable.js';

/**
 * Whether this is the first time Twilio's callback `sid` said `event` (a status, "pin", "inbound"),
 * recorded inside the caller's transaction. A replayed copy verifies like the original (Twilio signs
 * no timestamp): the caller answers it as before and applies nothing. A copy that arrives while the
 * first is still being applied waits for it, then finds it recorded.
 */
export async function firstTimeHeard(tx: Queryable, sid: string, event: string, at: Date): Promise<boolean> {
  const rows: unknown[] = await tx.query(
    `INSERT INTO twilio_callback_heard (sid, event, heard_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1`,
    [sid, event, at],
  );
  return rows.length > 0;
}
