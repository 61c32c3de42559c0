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
  const byId = webhookMessagesById(messages);
  if (!byId.size) return;
  const ids = [...byId.keys()];
  const inserted: { webhookId: string }[] = await db.query(
    `INSERT INTO webhook_message (source_id, webhook_id, received_at, body_hash)
     SELECT $1, id, $3, hash FROM unnest($2::text[], $4::bytea[]) AS v(id, hash)
     ON CONFLICT DO NOTHING RETURNING webhook_id AS "webhookId"`,
    [sourceId, ids, at, ids.map((id) => byId.get(id))],
  );
  await settleWebhooks(
    db,
    sourceId,
    byId,
    inserted.map((row) => row.webhookId),
    [],
  );
}

/** The messages by webhook-id; one id twice in one request with two bodies is refused at once. */
export function webhookMessagesById(messages: WebhookMessage[]): Map<string, Buffer> {
  const byId = new Map<string, Buffer>();
  for (const { webhookId, bodyHash } of messages) {
    const seen = byId.get(webhookId);
    if (seen && !seen.equals(bodyHash)) throw replayed();
    byId.set(webhookId, bodyHash);
  }
  return byId;
}

/**
 * After the ids were inserted (`ON CONFLICT DO NOTHING`): every id not inserted was seen before and
 * must have come with the same body. `earlier` is what the caller already read of those rows; an id
 * it lacks (one a concurrent request committed after the caller's snapshot) is read here.
 */
export async function settleWebhooks(
  db: Queryable,
  sourceId: string,
  byId: Map<string, Buffer>,
  inserted: string[],
  earlier: { webhookId: string; bodyHash: Buffer | null }[],
): Promise<void> {
  if (inserted.length === byId.size) return;
  const fresh = new Set(inserted);
  const known = new Map(earlier.map((row) => [row.webhookId, row.bodyHash]));
  const unread = [...byId.keys()].filter((id) => !fresh.has(id) && !known.has(id));
  if (unread.length) {
    const rows: { webhookId: string; bodyHash: Buffer | null }[] = await db.query(
      `SELECT webhook_id AS "webhookId", body_hash AS "bodyHash" FROM webhook_message WHERE source_id = $1 AND webhook_id = ANY($2::text[])`,
      [sourceId, unread],
    );
    for (const row of rows) known.set(row.webhookId, row.bodyHash);
  }
  for (const [id, bodyHash] of byId) {
    if (fresh.has(id)) continue;
    if (!known.get(id)?.equals(bodyHash)) throw replayed();
  }
}

function replayed(): DomainError {
  return new DomainError('unauthorized', 'WEBHOOK_REPLAYED', 'This webhook-id was already received with another body.');
}
