import { namedWhenSmall, type Queryable } from '../database/queryable.js';
import type { FacilityRow } from '../sources/facilities.service.js';
import { settleWebhooks, type WebhookMessage, webhookMessagesById } from '../sources/webhook-replay.js';
import type { ExistingEvent } from './event-recorder.js';

export interface GroupReads {
  /** The facilities already known among the codes asked for. */
  facilities: FacilityRow[];
  /** Events already recorded under the asked sourceEventIds, by sourceEventId. */
  existing: Map<string, ExistingEvent>;
}

interface Row {
  insertedWebhooks: string[];
  earlierWebhooks: { webhookId: string; bodyHash: string | null }[];
  facilities: FacilityRow[];
  existing: { id: string; sourceEventId: string; bodyHash: string }[];
}

/**
 * A transaction group's first statement after its lock: records the requests' webhook-ids (refusing
 * a replayed id with another body) and reads the facilities and the events already recorded, in one
 * round trip instead of three; a single event pays each round trip whole (docs/BENCHMARKS.md). It
 * must run after the lock is held, since its snapshot decides which events count as replays. The
 * webhook rows it inserts are not visible to its own read of earlier ones, which is what tells a
 * retried id from a new one.
 */
export async function readGroup(
  db: Queryable,
  sourceId: string,
  at: Date,
  request: { webhooks: WebhookMessage[]; facilityCodes: string[]; sourceEventIds: string[] },
): Promise<GroupReads> {
  const byId = webhookMessagesById(request.webhooks);
  const ids = [...byId.keys()];
  const rows: Row[] = await db.query(
    namedWhenSmall(
      'vigil_group_reads',
      `WITH hooks AS (
         INSERT INTO webhook_message (source_id, webhook_id, received_at, body_hash)
         SELECT $1, id, $3, hash FROM unnest($2::text[], $4::bytea[]) AS v(id, hash)
         ON CONFLICT DO NOTHING RETURNING webhook_id)
       SELECT
         ARRAY(SELECT webhook_id FROM hooks) AS "insertedWebhooks",
         (SELECT coalesce(json_agg(json_build_object('webhookId', w.webhook_id, 'bodyHash', encode(w.body_hash, 'base64'))), '[]')
            FROM webhook_message w WHERE w.source_id = $1 AND w.webhook_id = ANY($2::text[])) AS "earlierWebhooks",
         (SELECT coalesce(json_agg(json_build_object('id', f.id, 'code', f.code, 'suppressed', f.suppressed, 'name', f.name)), '[]')
            FROM facility f WHERE f.code = ANY($5::text[])) AS facilities,
         (SELECT coalesce(json_agg(json_build_object('id', e.id, 'sourceEventId', e.source_event_id, 'bodyHash', encode(e.body_hash, 'base64'))), '[]')
            FROM custody_event e WHERE e.source_id = $1 AND e.source_event_id = ANY($6::text[])) AS existing`,
      Math.max(ids.length, request.facilityCodes.length, request.sourceEventIds.length),
    ),
    [sourceId, ids, at, ids.map((id) => byId.get(id)), request.facilityCodes, request.sourceEventIds],
  );
  const row = rows[0];
  await settleWebhooks(
    db,
    sourceId,
    byId,
    row.insertedWebhooks,
    row.earlierWebhooks.map(({ webhookId, bodyHash }) => ({
      webhookId,
      bodyHash: bodyHash === null ? null : Buffer.from(bodyHash, 'base64'),
    })),
  );
  return {
    facilities: row.facilities,
    existing: new Map(
      row.existing.map(({ id, sourceEventId, bodyHash }) => [sourceEventId, { id, bodyHash: Buffer.from(bodyHash, 'base64') }]),
    ),
  };
}
