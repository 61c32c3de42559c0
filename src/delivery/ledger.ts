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

/** An attempt as the ledger holds it: one a crashed worker left unfinished has no outcome and no hash. */
interface AttemptRecord extends Omit<AttemptFacts, 'finishedAt' | 'outcome'> {
  finishedAt: Date | null;
  outcome: string | null;
  prevHash: Buffer | null;
  hash: Buffer | null;
}

const PAGE = 10_000;

/**
 * Walks every delivery's attempt chain, page by page; returns the deliveries whose chain does not
 * verify. An attempt left unfinished by a crashed worker has no hash, and the next one chains to that;
 * so does the next one of an attempt that was finished only after it started.
 */
export async function verifyAttemptChains(db: Queryable): Promise<string[]> {
  const broken = new Set<string>();
  let prev: { delivery: string; hash: Buffer | null; finishedAt: Date | null } | undefined;
  let after: [string, number] = ['00000000-0000-0000-0000-000000000000', 0];
  for (;;) {
    const rows: AttemptRecord[] = await db.query(
      `SELECT delivery_id AS "deliveryId", attempt_no AS "attemptNo", started_at AS "startedAt", finished_at AS "finishedAt", provider,
              provider_message_id AS "providerMessageId", outcome, error_code AS "errorCode", error_class AS "errorClass",
              prev_hash AS "prevHash", hash
       FROM delivery_attempt WHERE (delivery_id, attempt_no) > ($1::uuid, $2::int) ORDER BY delivery_id, attempt_no LIMIT ${PAGE}`,
      after,
    );
    for (const row of rows) {
      const previous = prev?.delivery === row.deliveryId ? prev : undefined;
      // A worker whose lease ran out may finish its attempt after another worker started the next one,
      // which found it unfinished and so chained to nothing.
      const mayBeUnchained = !previous || !previous.finishedAt || previous.finishedAt >= row.startedAt;
      const prevMatches = (mayBeUnchained && row.prevHash === null) || Boolean(previous?.hash && row.prevHash?.equals(previous.hash));
      const hashMatches =
        row.outcome === null
          ? row.hash === null
          : Boolean(row.hash?.equals(attemptHash(row.prevHash, { ...row, finishedAt: row.finishedAt!, outcome: row.outcome })));
      if (!prevMatches || !hashMatches) broken.add(row.deliveryId);
      prev = { delivery: row.deliveryId, hash: row.hash, finishedAt: row.finishedAt };
    }
    if (rows.length < PAGE) return [...broken];
    const last = rows[rows.length - 1];
    after = [last.deliveryId, last.attemptNo];
  }
}
