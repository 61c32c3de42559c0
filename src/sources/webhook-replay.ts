import { DomainError } from '../common/problem/domain-error.js';
import type { Queryable } from '../database/queryable.js';

/**
 * Records a signed request's webhook-id inside the transaction that does its work, so a replay is
 * refused but a request that failed (and rolled back) may be sent again with the same id.
 */
export async function refuseReplayedWebhook(db: Queryable, sourceId: string, webhookId: string | undefined, at: Date): Promise<void> {
  if (!webhookId) return;
  const rows: unknown[] = await db.query(
    `INSERT INTO webhook_message (source_id, webhook_id, received_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1`,
    [sourceId, webhookId, at],
  );
  if (!rows.length) throw new DomainError('unauthorized', 'WEBHOOK_REPLAYED', 'This webhook-id was already received.');
}
