import { DomainError } from '../common/problem/domain-error.js';
import type { Queryable } from '../database/queryable.js';

/** A signed request's Standard Webhooks message id and the SHA-256 of its body. */
export interface WebhookMessage {
  webhookId: string;
  bodyHash: Buffer;
}

/**
 * Records signed requests' webhook-ids inside the transaction that does their work. A sender
 * retrying a message (same id, same body) is let through: its events come back as duplicates,
 * as any replay does. The same id with another body is refused. A request that failed (and
 * rolled back) leaves no trace, so it may be sent again with its id.
 */
export async function refuseReplayedWebhooks(db: Queryable, sourceId: string, messages: WebhookMessage[], at: Date): Promise<void> {
  if (!messages.length) return;
  const byId = new Map<string, Buffer>();
  for (const { webhookId, bodyHash } of messages) {
    const seen = byId.get(webhookId);
    if (seen && !seen.equals(bodyHash)) throw replayed();
    byId.set(webhookId, bodyHash);
  }
  const ids = [...byId.keys()];
  const inserted: { webhookId: string }[] = await db.query(
    `INSERT INTO webhook_message (source_id, webhook_id, received_at, body_hash)
     SELECT $1, id, $3, hash FROM unnest($2::text[], $4::bytea[]) AS v(id, hash)
     ON CONFLICT DO NOTHING RETURNING webhook_id AS "webhookId"`,
    [sourceId, ids, at, ids.map((id) => byId.get(id))],
  );
  if (inserted.length === ids.length) return;
  const fresh = new Set(inserted.map((row) => row.webhookId));
  const earlier: { webhookId: string; bodyHash: Buffer | null }[] = await db.query(
    `SELECT webhook_id AS "webhookId", body_hash AS "bodyHash" FROM webhook_message WHERE source_id = $1 AND webhook_id = ANY($2::text[])`,
    [sourceId, ids.filter((id) => !fresh.has(id))],
  );
  if (earlier.some((row) => !row.bodyHash?.equals(byId.get(row.webhookId)!))) throw replayed();
}

function replayed(): DomainError {
  return new DomainError('unauthorized', 'WEBHOOK_REPLAYED', 'This webhook-id was already received with another body.');
}
