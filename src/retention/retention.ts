import type { DataSource } from 'typeorm';
import type { AuditedBy } from '../common/audit.service.js';
import type { Clock } from '../common/clock.js';
import type { RetentionConfig } from '../config/app-config.js';
import { returning, type Queryable } from '../database/queryable.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Registrations erased per transaction: each batch commits on its own, so no lock is held for long. */
export const RETENTION_BATCH = 50;
/** Event payloads cleared per transaction. */
export const PAYLOAD_BATCH = 1000;
/** One run at a time across every process: a second one finds the lock taken and skips. */
const RETENTION_LOCK = 7_316_450_022;
const FIRST_ID = '00000000-0000-0000-0000-000000000000';

/** What a run erased (or, dry, would erase): counts only, never whose. */
export interface RetentionCounts {
  registrations: number;
  contacts: number;
  verificationCodes: number;
  outboxMessages: number;
  serviceMessages: number;
  escalationNotes: number;
  auditEntries: number;
  attemptExcerpts: number;
  eventPayloads: number;
}

export type RetentionRun =
  | { ran: true; dryRun: boolean; counts: RetentionCounts }
  /** `locked`: another process is running it; `not_due`: it ran within `onlyIfNotRunWithinMs`. */
  | { ran: false; reason: 'locked' | 'not_due' };

export interface RetentionOptions {
  dryRun?: boolean;
  /** Who the audit log names: an operator who ran it by hand; absent, the scheduled job (role `system`). */
  by?: AuditedBy;
  /** The daily job's guard: skip when a run was audited this recently (by any process). */
  onlyIfNotRunWithinMs?: number;
}

/** Thrown to roll a dry batch back, carrying what it counted. */
class DryBatch<T> extends Error {
  constructor(readonly result: T) {
    super('dry run: rolled back');
  }
}

/**
 * Erases the personal data of registrations that ended (stopped or expired) more than
 * `config.days` ago, and clears raw custody-event payloads older than `config.eventPayloadDays`
 * when that is set. Rows stay for the ledger; the attempts' hash chain covers none of what goes.
 * Under a session advisory lock (one run across every process), in small batches that each commit,
 * and audited with counts. A dry run does each batch's work and rolls it back.
 */
export async function runRetention(
  db: DataSource,
  config: RetentionConfig,
  clock: Clock,
  options: RetentionOptions = {},
): Promise<RetentionRun> {
  const dryRun = Boolean(options.dryRun);
  const lock = db.createQueryRunner();
  await lock.connect();
  try {
    const [{ locked }] = (await lock.query(`SELECT pg_try_advisory_lock($1) AS locked`, [RETENTION_LOCK])) as { locked: boolean }[];
    if (!locked) return { ran: false, reason: 'locked' };
    try {
      const now = clock.now();
      if (options.onlyIfNotRunWithinMs !== undefined && (await ranSince(db, new Date(now.getTime() - options.onlyIfNotRunWithinMs)))) {
        return { ran: false, reason: 'not_due' };
      }
      const counts = await eraseEndedRegistrations(db, new Date(now.getTime() - config.days * DAY_MS), now, dryRun);
      counts.eventPayloads =
        config.eventPayloadDays === undefined
          ? 0
          : await clearEventPayloads(db, new Date(now.getTime() - config.eventPayloadDays * DAY_MS), now, dryRun);
      if (!dryRun) {
        await db.query(
          `INSERT INTO audit_log (at, actor_staff_id, actor_role, client_address, action, target_type, details)
           VALUES ($1, $2, $3, $4, 'retention.run', 'retention', $5)`,
          [
            now,
            options.by?.staff.staffId ?? null,
            options.by?.staff.role ?? 'system',
            options.by?.clientAddress ?? null,
            JSON.stringify({ ...counts, retentionDays: config.days, eventPayloadRetentionDays: config.eventPayloadDays ?? null }),
          ],
        );
      }
      return { ran: true, dryRun, counts };
    } finally {
      await lock.query(`SELECT pg_advisory_unlock($1)`, [RETENTION_LOCK]);
    }
  } finally {
    await lock.release();
  }
}

async function ranSince(db: Queryable, since: Date): Promise<boolean> {
  const rows: unknown[] = await db.query(
    `SELECT 1 FROM audit_log WHERE target_type = 'retention' AND target_id IS NULL AND action = 'retention.run' AND at > $1 LIMIT 1`,
    [since],
  );
  return rows.length > 0;
}

/** One batch in its own transaction, with the append-only tables' retention door open for it alone (SET LOCAL). */
async function batch<T>(db: DataSource, dryRun: boolean, work: (tx: Queryable) => Promise<T>): Promise<T> {
  try {
    return await db.transaction(async (tx) => {
      await tx.query(`SET LOCAL vigil.retention = 'on'`);
      const result = await work(tx);
      if (dryRun) throw new DryBatch(result);
      return result;
    });
  } catch (error) {
    if (error instanceof DryBatch) return error.result as T;
    throw error;
  }
}

async function eraseEndedRegistrations(db: DataSource, endedBefore: Date, now: Date, dryRun: boolean): Promise<RetentionCounts> {
  const counts: RetentionCounts = {
    registrations: 0,
    contacts: 0,
    verificationCodes: 0,
    outboxMessages: 0,
    serviceMessages: 0,
    escalationNotes: 0,
    auditEntries: 0,
    attemptExcerpts: 0,
    eventPayloads: 0,
  };
  let after = FIRST_ID;
  for (;;) {
    const [ids, erased] = await batch(db, dryRun, async (tx) => {
      const rows: { id: string }[] = await tx.query(
        `SELECT id FROM registration
         WHERE status IN ('stopped', 'expired') AND erased_at IS NULL AND id > $1
           AND coalesce(CASE status WHEN 'stopped' THEN stopped_at ELSE expires_at END, updated_at) <= $2
         ORDER BY id LIMIT ${RETENTION_BATCH} FOR UPDATE SKIP LOCKED`,
        [after, endedBefore],
      );
      const ids = rows.map((row) => row.id);
      return [ids, ids.length ? await erase(tx, ids, now) : undefined] as const;
    });
    if (erased) for (const key of Object.keys(erased) as (keyof RetentionCounts)[]) counts[key] += erased[key];
    if (ids.length < RETENTION_BATCH) return counts;
    after = ids[ids.length - 1];
  }
}

/** Empties `ids`' registrations of what identifies the victim; the rows and their ledger stay. */
async function erase(tx: Queryable, ids: string[], now: Date): Promise<RetentionCounts> {
  const contacts = await returning<{ id: string }>(
    tx,
    `UPDATE contact SET address = '', address_index = '\\x'::bytea, key_id = '', code_hash = NULL, code_expires_at = NULL
     WHERE registration_id = ANY($1::uuid[]) RETURNING id`,
    [ids],
  );
  const contactIds = contacts.map((c) => c.id);
  const notifications = await returning<{ id: string; shared: boolean }>(
    tx,
    `UPDATE notification n SET message_sealed = NULL,
       message = CASE WHEN n.message -> 'service' ? 'kind' THEN jsonb_build_object('service', jsonb_build_object('kind', n.message -> 'service' -> 'kind')) END
     FROM notification o WHERE o.id = n.id AND n.registration_id = ANY($1::uuid[])
     RETURNING n.id, (o.message_sealed IS NOT NULL OR (o.message -> 'service') - 'kind' <> '{}'::jsonb) AS shared`,
    [ids],
  );
  const notificationIds = notifications.map((n) => n.id);
  const deliveries = await returning<{ id: string; code: boolean }>(
    tx,
    `UPDATE delivery d SET secret = NULL, last_error = NULL
     FROM delivery o
     WHERE o.id = d.id AND (d.notification_id = ANY($1::uuid[]) OR (d.purpose = 'verification' AND d.contact_id = ANY($2::uuid[])))
     RETURNING d.id, o.secret IS NOT NULL AS code`,
    [notificationIds, contactIds],
  );
  const deliveryIds = deliveries.map((d) => d.id);
  const outbox = await returning<{ id: string }>(tx, `DELETE FROM dev_outbox WHERE delivery_id = ANY($1::uuid[]) RETURNING id`, [
    deliveryIds,
  ]);
  // Not covered by the attempts' hash: provider answers can quote the address they were sent to.
  const excerpts = await returning<{ id: string }>(
    tx,
    `UPDATE delivery_attempt SET response_excerpt = NULL WHERE delivery_id = ANY($1::uuid[]) AND response_excerpt IS NOT NULL RETURNING id`,
    [deliveryIds],
  );
  // The note tells the victim's circumstances; a resolved escalation must keep one, so it becomes empty.
  const notes = await returning<{ id: string }>(
    tx,
    `UPDATE escalation SET resolution_note = '' WHERE id = ANY($1::uuid[]) AND resolution_note <> '' RETURNING id`,
    [notificationIds],
  );
  // Stop reasons from before they were sealed sit in the audit log; so may a victim's own client address.
  const audits = await returning<{ id: string }>(
    tx,
    `UPDATE audit_log SET details = CASE WHEN details ? 'reason' THEN details - 'reason' ELSE details END,
       client_address = CASE WHEN actor_staff_id IS NULL THEN NULL ELSE client_address END
     WHERE target_type = 'registration' AND target_id = ANY($1::uuid[])
       AND (details ? 'reason' OR (actor_staff_id IS NULL AND client_address IS NOT NULL))
     RETURNING id`,
    [ids],
  );
  await tx.query(
    `UPDATE registration SET registrant_name = NULL, stop_reason = NULL, manage_token = NULL, pin_hash = NULL, quiet_hours = NULL,
       manage_token_hash = uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), erased_at = $2, updated_at = $2
     WHERE id = ANY($1::uuid[])`,
    [ids, now],
  );
  return {
    registrations: ids.length,
    contacts: contactIds.length,
    verificationCodes: deliveries.filter((d) => d.code).length,
    outboxMessages: outbox.length,
    serviceMessages: notifications.filter((n) => n.shared).length,
    escalationNotes: notes.length,
    auditEntries: audits.length,
    attemptExcerpts: excerpts.length,
    eventPayloads: 0,
  };
}

/**
 * Raw payloads received before `before` are emptied; their body hash stays, and it alone tells a
 * replay (`duplicate`) from a reused id with another body (`conflict`).
 */
async function clearEventPayloads(db: DataSource, before: Date, now: Date, dryRun: boolean): Promise<number> {
  let cleared = 0;
  let after = new Date(0);
  let afterId = FIRST_ID;
  for (;;) {
    const rows = await batch(db, dryRun, (tx) =>
      returning<{ id: string; receivedAt: Date }>(
        tx,
        `UPDATE custody_event SET payload = '{}'::jsonb, payload_cleared_at = $3
         WHERE id IN (SELECT id FROM custody_event
                      WHERE payload_cleared_at IS NULL AND received_at < $1 AND (received_at, id) > ($2, $4::uuid)
                      ORDER BY received_at, id LIMIT ${PAYLOAD_BATCH} FOR UPDATE SKIP LOCKED)
         RETURNING id, received_at AS "receivedAt"`,
        [before, after, now, afterId],
      ),
    );
    cleared += rows.length;
    if (rows.length < PAYLOAD_BATCH) return cleared;
    const last = rows.reduce((a, b) =>
      a.receivedAt.getTime() > b.receivedAt.getTime() || (a.receivedAt.getTime() === b.receivedAt.getTime() && a.id > b.id) ? a : b,
    );
    after = last.receivedAt;
    afterId = last.id;
  }
}
