import { DomainError } from '../common/problem/domain-error.js';
import type { Queryable } from '../database/queryable.js';

/**
 * Records signed requests' webhook-ids inside the transaction that does their work, so a replay is
 * refused but a request that failed (and rolled back) may be sent again with the same id.
 */
export async function refuseReplayedWebhooks(db: Queryable, sourceId: string, webhookIds: string[], at: Date): Promise<void> {
  if (!webhookIds.length) return;
  const rows: unknown[] = await db.query(
    `INSERT INTO webhook_message (source_id, webhook_id, received_at) SELECT $1, unnest($2::text[]), $3 ON CONFLICT DO NOTHING RETURNING 1`,
    [sourceId, webhookIds, at],
  );
  if (rows.length < new Set(webhookIds).size || new Set(webhookIds).size < webhookIds.length) {
    throw new DomainError('unauthorized', 'WEBHOOK_REPLAYED', 'This webhook-id was already received.');
  }
}
