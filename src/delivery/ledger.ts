import { createHash } from 'node:crypto';
import type { Queryable } from '../database/queryable.js';

export interface AttemptFacts {
  deliveryId: string;
  attemptNo: number;
  startedAt: Date;
  finishedAt: Date;
  provider: string;
  providerMessageId: string | null;
  outcome: string;
  errorCode: string | null;
  errorClass: string | null;
}

/**
 * The hash that chains a delivery's attempts: each covers the previous attempt's hash and this
 * attempt's facts, so an edited or removed attempt breaks every hash after it.
 */
export function attemptHash(prev: Buffer | null, a: AttemptFacts): Buffer {
  return createHash('sha256')
    .update(prev ?? Buffer.alloc(0))
    .update(
      JSON.stringify([
        a.deliveryId,
        a.attemptNo,
        a.startedAt.toISOString(),
        a.finishedAt.toISOString(),
        a.provider,
        a.providerMessageId,
        a.outcome,
        a.errorCode,
        a.errorClass,
      ]),
    )
    .digest();
}

interface AttemptRow {
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
}

const PAGE = 10_000;

/**
 * Walks every delivery's attempt chain, page by page; returns the deliveries whose chain does not
 * verify. An attempt left unfinished by a crashed worker has no hash, and the next one chains to that.
 */
export async function verifyAttemptChains(db: Queryable): Promise<string[]> {
  const broken = new Set<string>();
  let prev: { delivery: string; hash: Buffer | null } | undefined;
  let after: [string, number] = ['00000000-0000-0000-0000-000000000000', 0];
  for (;;) {
    const rows: AttemptRow[] = await db.query(
      `SELECT delivery_id, attempt_no, started_at, finished_at, provider, provider_message_id, outcome, error_code, error_class, prev_hash, hash
       FROM delivery_attempt WHERE (delivery_id, attempt_no) > ($1::uuid, $2::int) ORDER BY delivery_id, attempt_no LIMIT ${PAGE}`,
      after,
    );
    for (const row of rows) {
      const expectedPrev = prev?.delivery === row.delivery_id ? prev.hash : null;
      const prevMatches = expectedPrev === null ? row.prev_hash === null : Boolean(row.prev_hash?.equals(expectedPrev));
      const hashMatches =
        row.outcome === null
          ? row.hash === null
          : Boolean(
              row.hash?.equals(
                attemptHash(row.prev_hash, {
                  deliveryId: row.delivery_id,
                  attemptNo: row.attempt_no,
                  startedAt: row.started_at,
                  finishedAt: row.finished_at!,
                  provider: row.provider,
                  providerMessageId: row.provider_message_id,
                  outcome: row.outcome,
                  errorCode: row.error_code,
                  errorClass: row.error_class,
                }),
              ),
            );
      if (!prevMatches || !hashMatches) broken.add(row.delivery_id);
      prev = { delivery: row.delivery_id, hash: row.hash };
    }
    if (rows.length < PAGE) return [...broken];
    const last = rows[rows.length - 1];
    after = [last.delivery_id, last.attempt_no];
  }
}
