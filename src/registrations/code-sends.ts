import type { Queryable } from '../database/queryable.js';

/**
 * Moves the code sends a destination had under other blind indexes (older keys) into its row under
 * `to` (the current key's index), merging the two days of sends; the old rows go. Locks the old rows
 * before the current one: every caller (a claim, the key rotation) takes them in that order, so
 * callers queue instead of deadlocking, and a claim that waited sees the merged row whole.
 * Answers how many old rows were moved.
 */
export async function foldCodeSends(db: Queryable, from: Buffer[], to: Buffer): Promise<number> {
  const old = from.filter((index) => !index.equals(to));
  if (!old.length) return 0;
  const [moved]: { n: number }[] = await db.query(
    `WITH moved AS (DELETE FROM code_send WHERE address_index = ANY($1::bytea[]) RETURNING sent_at, last_sent_at),
     merged AS (
       INSERT INTO code_send AS s (address_index, sent_at, last_sent_at)
       SELECT $2::bytea, array_agg(t ORDER BY t), max(m.last_sent_at) FROM moved m CROSS JOIN LATERAL unnest(m.sent_at) t HAVING count(*) > 0
       ON CONFLICT (address_index) DO UPDATE
         SET sent_at = ARRAY(SELECT t FROM unnest(s.sent_at || EXCLUDED.sent_at) t ORDER BY t),
             last_sent_at = greatest(s.last_sent_at, EXCLUDED.last_sent_at))
     SELECT count(*)::int AS n FROM moved`,
    [old, to],
  );
  return moved.n;
}
