import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { type Queryable, returning } from './queryable.js';
import { retryingTransaction } from './retrying-transaction.js';

export const DELIVERY_STATUSES = ['pending', 'held', 'sending', 'sent', 'delivered', 'confirmed', 'failed', 'dead', 'suppressed'] as const;
/**
 * `sent` = the provider accepted it, `delivered` only on the provider's delivery report,
 * `confirmed` = PIN entered; `failed` (permanently), `dead` (out of attempts), `suppressed` (consent ended, or nothing may go out).
 */
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** An attempt's outcome in the ledger; `withdrawn`: consent ended (or the person became protected, or the event was retracted) while the batch was in hand, and no provider was called. */
export type AttemptOutcome = 'accepted' | 'transient_error' | 'permanent_error' | 'withdrawn';

/** Wakes the workers when a transaction that queued deliveries commits. */
export const DELIVERY_CHANNEL = 'vigil_delivery';

/**
 * The forward-only rule, the one copy: a status proposed for a delivery (by the worker finishing an
 * attempt, a provider's report, a PIN) replaces the current one unless the delivery is further along
 * than only the outside world can tell: `confirmed` (the PIN was entered) is final, and `delivered`
 * gives way only to `confirmed`. A late `sent`, a repeat call's own outcome or a replayed report never
 * moves a delivery back.
 */
export function statusAfter(current: DeliveryStatus, proposed: DeliveryStatus): DeliveryStatus {
  if (current === 'confirmed') return current;
  if (current === 'delivered' && proposed !== 'confirmed') return current;
  return proposed;
}

/** statusAfter as SQL, for statements that move many rows at once (tested against statusAfter). */
export function statusAfterSql(current: string, proposed: string): string {
  return `CASE WHEN ${current} = 'confirmed' OR (${current} = 'delivered' AND ${proposed} <> 'confirmed') THEN ${current} ELSE ${proposed} END`;
}

/**
 * What a provider's report may still change: a report never revives a delivery that failed, died or
 * was stopped, and a failure report (undelivered, an unanswered call) concerns only a message Vigil
 * holds as sent (while a retry is waiting or being sent, news of the previous try changes nothing).
 */
const DELIVERED_FROM: DeliveryStatus[] = ['pending', 'held', 'sending', 'sent'];
const FAILURE_REPORTED_FROM: DeliveryStatus = 'sent';

/** Which contacts' waiting deliveries to stop: a whole registration, one contact, or a phone number's SMS. */
export type WaitingScope = { registrationId: string } | { contactId: string } | { smsTo: Buffer[] };

/** One attempt about to be made: the ledger row written before any provider is called. */
export interface AttemptStart {
  deliveryId: string;
  attemptNo: number;
  provider: string;
  prevHash: Buffer | null;
}

/** What startAttempts wrote: the deliveries to send now, and the alerts to drop (their event was retracted). */
export interface StartedAttempts {
  started: Set<string>;
  retracted: Set<string>;
}

/** What an attempt came to; `hash` chains it to the previous one. */
export interface AttemptEnd {
  deliveryId: string;
  attemptNo: number;
  finishedAt: Date;
  providerMessageId: string | null;
  outcome: AttemptOutcome;
  errorCode: string | null;
  errorClass: string | null;
  excerpt: string | null;
  hash: Buffer;
}

/** The worker's decision for one delivery of its batch. */
export interface DeliveryChange {
  id: string;
  status: DeliveryStatus;
  attempts?: number;
  dueAt?: Date;
  providerMessageId?: string | null;
  error?: string;
  stopRepeats?: boolean;
}

/**
 * The one owner of the delivery table and its status rules: queueing (verification codes, resends),
 * suppressing what waits, claiming and finishing batches (with the ledger's attempt rows), provider
 * reports, PIN confirmation and dead letters. Planning a crowd's alerts and staff messages stay one
 * statement each where they are (they join notifications, watches and staff), and use DELIVERY_CHANNEL.
 * Methods that take `tx` run inside the caller's transaction.
 */
@Injectable()
export class DeliveryRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** A verification code's message (or call), woken at commit. */
  async enqueueVerification(
    tx: Queryable,
    contactId: string,
    channel: string,
    secret: string | null,
    at: Date,
    id = randomUUID(),
  ): Promise<void> {
    // The id is the caller's when the secret is sealed to this row (its ciphertext is bound to the id).
    await tx.query(`INSERT INTO delivery (id, purpose, contact_id, channel, secret, due_at) VALUES ($5, 'verification', $1, $2, $3, $4)`, [
      contactId,
      channel,
      secret,
      at,
      id,
    ]);
    await tx.query(`SELECT pg_notify($1, 'due')`, [DELIVERY_CHANNEL]);
  }

  /**
   * A specialist's resend: a new round of deliveries to every contact that may receive it. Two resends
   * of one notification take turns on its row; while the last resend's round is still waiting, another
   * is refused (`in_progress`), so a double click queues one round.
   */
  async enqueueResend(notificationId: string, at: Date): Promise<{ queued: number } | 'in_progress'> {
    return retryingTransaction(this.db, async (tx) => {
      await tx.query(`SELECT 1 FROM notification WHERE id = $1 FOR NO KEY UPDATE`, [notificationId]);
      const waiting: unknown[] = await tx.query(
        `SELECT 1 FROM delivery WHERE notification_id = $1 AND round > 0 AND status IN ('pending', 'held', 'sending') LIMIT 1`,
        [notificationId],
      );
      if (waiting.length) return 'in_progress';
      const rows: { id: string }[] = await tx.query(
        `WITH queued AS (
           INSERT INTO delivery (purpose, notification_id, contact_id, channel, due_at, created_at, updated_at, round)
           SELECT 'alert', n.id, c.id, c.channel, $2, $2, $2, coalesce((SELECT max(round) FROM delivery WHERE notification_id = n.id), 0) + 1
           FROM notification n JOIN registration r ON r.id = n.registration_id AND r.status = 'active'
           JOIN contact c ON c.registration_id = r.id
           WHERE n.id = $1 AND c.verified_at IS NOT NULL AND c.unsubscribed_at IS NULL
             AND NOT (c.channel = 'sms' AND EXISTS (SELECT 1 FROM phone_opt_out o WHERE o.address_index = c.address_index))
           RETURNING id
         ) SELECT id, pg_notify($3, 'due') FROM queued`,
        [notificationId, at, DELIVERY_CHANNEL],
      );
      return { queued: rows.length };
    });
  }

  /**
   * When consent ends (DELETE, unsubscribe, STOP), what has not gone yet never goes: pending and held
   * deliveries become suppressed. Alerts are reached through the registration's notifications,
   * verification codes through their own small index: planning a crowded release writes no index entry for this.
   */
  async suppressWaiting(tx: Queryable, scope: WaitingScope, at: Date): Promise<void> {
    const [filter, value] =
      'registrationId' in scope
        ? ['c.registration_id = $1', scope.registrationId]
        : 'contactId' in scope
          ? ['c.id = $1', scope.contactId]
          : [`c.address_index = ANY($1::bytea[]) AND c.channel = 'sms'`, scope.smsTo];
    await tx.query(
      `WITH target AS (SELECT c.id, c.registration_id FROM contact c WHERE ${filter})
       UPDATE delivery d SET status = 'suppressed', updated_at = $2, lease_owner = NULL, lease_expires_at = NULL
       WHERE d.status IN ('pending', 'held') AND d.id IN (
         SELECT w.id FROM target t JOIN notification n ON n.registration_id = t.registration_id
         JOIN delivery w ON w.notification_id = n.id AND w.contact_id = t.id
         UNION ALL
         SELECT w.id FROM target t JOIN delivery w ON w.contact_id = t.id AND w.notification_id IS NULL AND w.status IN ('pending', 'held'))`,
      [value, at],
    );
  }

  /**
   * Nothing more goes out about events a CORRECTION retracted: their pending and held deliveries
   * (retries included) are suppressed, their repeating calls stop, and an escalation about them that
   * has not reached staff yet is suppressed too.
   */
  async suppressRetracted(tx: Queryable, eventIds: string[], at: Date): Promise<void> {
    await tx.query(
      `WITH stopped AS (
         UPDATE delivery d SET status = CASE WHEN d.status IN ('pending', 'held') THEN 'suppressed' ELSE d.status END,
                repeat_until = NULL, updated_at = $2
         FROM notification n
         WHERE n.event_id = ANY($1::uuid[]) AND d.notification_id = n.id
           AND (d.status IN ('pending', 'held') OR d.repeat_until IS NOT NULL)
       )
       UPDATE delivery d SET status = 'suppressed', updated_at = $2
       FROM notification n
       WHERE n.event_id = ANY($1::uuid[]) AND d.purpose = 'staff' AND d.status IN ('pending', 'held')
         AND d.payload ->> 'kind' = 'escalation' AND d.payload ->> 'notificationId' = n.id::text`,
      [eventIds, at],
    );
  }

  /**
   * Claims up to `limit` due deliveries for `lease` until `until`. Each kind of due work is read in due
   * order from its own partial index, so a claim costs the same however many deliveries the table
   * holds. A repeat call of an urgent phone alert is claimed without moving its status back.
   * `channels` limits the claim to one provider's channels, so a provider that hangs holds up only its own.
   */
  async claim(lease: string, limit: number, now: Date, until: Date, channels?: readonly string[]): Promise<string[]> {
    const only = channels ? 'AND channel = ANY ($5::text[])' : '';
    const rows = await returning<{ id: string }>(
      this.db,
      `WITH waiting AS (
         SELECT id, due_at FROM delivery
         WHERE status IN ('pending', 'held') AND due_at <= $3 ${only}
         ORDER BY due_at LIMIT $4 FOR UPDATE SKIP LOCKED
       ), expired AS (
         -- A worker died holding these (or is too slow to renew): another one sends them.
         SELECT id, due_at FROM delivery
         WHERE status = 'sending' AND lease_expires_at < $3 ${only}
         ORDER BY lease_expires_at LIMIT $4 FOR UPDATE SKIP LOCKED
       ), repeating AS (
         SELECT id, due_at FROM delivery
         WHERE repeat_until IS NOT NULL AND status IN ('sent', 'delivered')
           AND repeat_until > $3 AND due_at <= $3 AND (lease_expires_at IS NULL OR lease_expires_at < $3) ${only}
         ORDER BY due_at LIMIT $4 FOR UPDATE SKIP LOCKED
       ), picked AS (
         SELECT id FROM (SELECT * FROM waiting UNION ALL SELECT * FROM expired UNION ALL SELECT * FROM repeating) due ORDER BY due_at LIMIT $4
       )
       UPDATE delivery d SET status = CASE WHEN d.status IN ('sent', 'delivered') THEN d.status ELSE 'sending' END,
              lease_owner = $1, lease_expires_at = $2, updated_at = $3
       WHERE d.id = ANY (ARRAY(SELECT id FROM picked))
       RETURNING d.id`,
      channels ? [lease, until, now, limit, channels] : [lease, until, now, limit],
    );
    return rows.map((row) => row.id);
  }

  async renewLeases(lease: string, ids: string[], until: Date): Promise<void> {
    await this.db.query(`UPDATE delivery SET lease_expires_at = $3 WHERE id = ANY($1::uuid[]) AND lease_owner = $2`, [ids, lease, until]);
  }

  /** A stopping worker's batches go back to the queue at once rather than after their leases. */
  async releaseLeases(leasePrefix: string): Promise<void> {
    await this.db.query(
      `UPDATE delivery SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL
       WHERE status = 'sending' AND starts_with(lease_owner, $1)`,
      [leasePrefix],
    );
  }

  /**
   * Ledger first: writes the attempt rows of the deliveries `lease` still holds, before any provider
   * is called, and returns those deliveries. A delivery another worker has claimed since (this lease
   * expired) gets no attempt here and must not be sent; an attempt number already taken (that worker
   * got there first) is skipped, not an error that would fail the whole batch.
   *
   * An alert about an event a CORRECTION has retracted gets no attempt either: it is returned as
   * `retracted`, and must not be sent. The event rows are read under a share lock, which waits for a
   * CORRECTION's transaction that has retracted (updated) one of them and reads it as committed. So an
   * alert either has its attempt written before the correction plans, which then sees it (maybe sent:
   * the correction waits for its outcome), or is refused here, after the correction commits: never
   * sent by a batch the correction could not see. The batch loaded its contexts earlier, and a
   * correction's NOTIFY may reach this worker only after its provider calls.
   */
  async startAttempts(lease: string, attempts: AttemptStart[], startedAt: Date): Promise<StartedAttempts> {
    if (!attempts.length) return { started: new Set(), retracted: new Set() };
    // A transaction retracting several events updates their rows in its own order: a batch locking them in
    // another order may be the side PostgreSQL rolls back to break the deadlock; then the statement runs again.
    const rows = await retryingTransaction(this.db, (tx) =>
      returning<{ deliveryId: string; retracted: boolean }>(
        tx,
        `WITH owned AS (
         SELECT v.d, v.n, v.p, v.h, n.event_id FROM unnest($1::uuid[], $2::int[], $4::text[], $5::bytea[]) AS v(d, n, p, h)
         JOIN delivery d ON d.id = v.d AND d.lease_owner = $6
         LEFT JOIN notification n ON n.id = d.notification_id AND n.kind = 'alert'
       ), events AS (
         -- Every event, not only those retracted at this statement's snapshot: the lock waits for a retraction
         -- not yet committed, and the row is then read as it commits. In id order, as every other batch locks them.
         SELECT e.id, e.retracted_by_event_id IS NOT NULL AS retracted FROM custody_event e
         WHERE e.id IN (SELECT event_id FROM owned) ORDER BY e.id FOR SHARE
       ), started AS (
         INSERT INTO delivery_attempt (delivery_id, attempt_no, started_at, provider, prev_hash)
         SELECT o.d, o.n, $3, o.p, o.h FROM owned o
         WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = o.event_id AND e.retracted)
         ON CONFLICT (delivery_id, attempt_no) DO NOTHING
         RETURNING delivery_id
       )
       SELECT delivery_id AS "deliveryId", false AS retracted FROM started
       UNION ALL
       SELECT o.d, true FROM owned o JOIN events e ON e.id = o.event_id AND e.retracted`,
        [
          attempts.map((a) => a.deliveryId),
          attempts.map((a) => a.attemptNo),
          startedAt,
          attempts.map((a) => a.provider),
          attempts.map((a) => a.prevHash),
          lease,
        ],
      ),
    );
    return {
      started: new Set(rows.filter((row) => !row.retracted).map((row) => row.deliveryId)),
      retracted: new Set(rows.filter((row) => row.retracted).map((row) => row.deliveryId)),
    };
  }

  /**
   * Records what a batch's attempts came to and the worker's decisions for what `lease` still holds,
   * and lets go of it, in one statement: no reader sees an attempt ended while its delivery still reads
   * as being sent, and a crash leaves both undone (the lease expires, the attempt is made again). Each
   * attempt is finished once, then frozen (a trigger refuses any later change), even when its delivery
   * has been claimed by another worker since. A PIN entered or a delivery report received while the
   * batch was in hand is not overwritten (statusAfter).
   */
  async finish(lease: string, ends: AttemptEnd[], changes: DeliveryChange[], at: Date): Promise<void> {
    if (!changes.length && !ends.length) return;
    await this.db.query(
      // The attempts are written after the deliveries (an unread WITH runs last): rows are locked in the order a report locks them.
      `WITH ended AS (
         UPDATE delivery_attempt a SET finished_at = e.finished_at, provider_message_id = e.pmid, outcome = e.outcome,
                error_code = e.code, error_class = e.class, response_excerpt = e.excerpt, hash = e.hash
         FROM unnest($10::uuid[], $11::int[], $12::timestamptz[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::bytea[])
              AS e(delivery_id, attempt_no, finished_at, pmid, outcome, code, class, excerpt, hash)
         WHERE a.delivery_id = e.delivery_id AND a.attempt_no = e.attempt_no AND a.delivery_id = ANY($10::uuid[])
       )
       UPDATE delivery d SET status = ${statusAfterSql('d.status', 'v.status')},
              attempts = coalesce(v.attempts, d.attempts), due_at = coalesce(v.due_at, d.due_at),
              provider_message_id = coalesce(v.pmid, d.provider_message_id), last_error = v.error,
              lease_owner = NULL, lease_expires_at = NULL, updated_at = $2,
              repeat_until = CASE WHEN v.stop THEN NULL ELSE d.repeat_until END
       FROM unnest($3::uuid[], $4::text[], $5::int[], $6::timestamptz[], $7::text[], $8::text[], $9::boolean[], $1::text[])
            AS v(id, status, attempts, due_at, pmid, error, stop, owner)
       -- The lease is compared through v, not with a constant: an estimate of "one row holds this
       -- lease" made the planner rescan v once per row of the batch.
       WHERE d.id = v.id AND d.id = ANY($3::uuid[]) AND d.lease_owner = v.owner`,
      [
        changes.map(() => lease),
        at,
        changes.map((c) => c.id),
        changes.map((c) => c.status),
        changes.map((c) => c.attempts ?? null),
        changes.map((c) => c.dueAt ?? null),
        changes.map((c) => c.providerMessageId ?? null),
        changes.map((c) => c.error ?? null),
        changes.map((c) => c.stopRepeats ?? false),
        ends.map((e) => e.deliveryId),
        ends.map((e) => e.attemptNo),
        ends.map((e) => e.finishedAt),
        ends.map((e) => e.providerMessageId),
        ends.map((e) => e.outcome),
        ends.map((e) => e.errorCode),
        ends.map((e) => e.errorClass),
        ends.map((e) => e.excerpt),
        ends.map((e) => e.hash),
      ],
    );
  }

  /**
   * The provider reports message or call `sid` of delivery `id` delivered (or a call answered); false
   * if `sid` is not the message on record there. With `repeatAfter`, a repeating urgent call's next
   * call is no earlier than that.
   */
  async markDelivered(db: Queryable, id: string, sid: string, at: Date, repeatAfter?: Date): Promise<boolean> {
    const matched = await returning<{ id: string }>(
      db,
      `UPDATE delivery SET status = CASE WHEN status = ANY($4::text[]) THEN ${statusAfterSql('status', `'delivered'`)} ELSE status END,
              updated_at = $3,
              due_at = CASE WHEN $5::timestamptz IS NOT NULL AND repeat_until IS NOT NULL THEN greatest(due_at, $5) ELSE due_at END
       WHERE id = $1 AND provider_message_id = $2 RETURNING id`,
      [id, sid, at, DELIVERED_FROM, repeatAfter ?? null],
    );
    return matched.length > 0;
  }

  /**
   * Holds delivery `id` for the rest of the caller's transaction, which applies a provider's report
   * about it; true when a batch has it in hand (a first send, or a repeat call, which keeps its status).
   * A batch recording its outcome meanwhile waits: a report either finds the id recorded or is kept
   * for the batch to apply, never read in between and dropped.
   */
  async holdForReport(tx: Queryable, id: string): Promise<boolean> {
    const rows: { inHand: boolean }[] = await tx.query(
      `SELECT lease_owner IS NOT NULL AS "inHand" FROM delivery WHERE id = $1 FOR NO KEY UPDATE`,
      [id],
    );
    return rows[0]?.inHand ?? false;
  }

  /** An unanswered call: an urgent one is simply called again on schedule; an ordinary one fails. */
  async markCallFailed(db: Queryable, id: string, sid: string, error: string, at: Date): Promise<boolean> {
    const matched = await returning<{ id: string }>(
      db,
      `UPDATE delivery SET status = CASE WHEN repeat_until IS NULL AND status = $5 THEN ${statusAfterSql('status', `'failed'`)} ELSE status END,
              last_error = CASE WHEN repeat_until IS NULL AND status = $5 THEN $3 ELSE last_error END, updated_at = $4
       WHERE id = $1 AND provider_message_id = $2 RETURNING id`,
      [id, sid, error, at, FAILURE_REPORTED_FROM],
    );
    return matched.length > 0;
  }

  /** What an undelivered report is judged on; undefined when `sid` is not the message on record. */
  async undeliveredCandidate(
    db: Queryable,
    id: string,
    sid: string,
  ): Promise<{ attempts: number; channel: 'email' | 'sms' | 'voice'; reportable: boolean } | undefined> {
    const rows: { attempts: number; channel: 'email' | 'sms' | 'voice'; status: DeliveryStatus }[] = await db.query(
      `SELECT attempts, channel, status FROM delivery WHERE id = $1 AND provider_message_id = $2`,
      [id, sid],
    );
    if (!rows.length) return undefined;
    return { attempts: rows[0].attempts, channel: rows[0].channel, reportable: rows[0].status === FAILURE_REPORTED_FROM };
  }

  /**
   * The carrier could not deliver message `sid`: `status` is pending (again, at `dueAt`), failed or dead.
   * Guarded by the attempts read before: a concurrent report or a new attempt leaves this one without effect.
   */
  async markUndelivered(
    db: Queryable,
    id: string,
    sid: string,
    change: { status: 'pending' | 'failed' | 'dead'; dueAt: Date | null; error: string; attempts: number },
    at: Date,
  ): Promise<void> {
    await db.query(
      `UPDATE delivery SET status = ${statusAfterSql('status', '$3')}, due_at = coalesce($4, due_at), last_error = $5, updated_at = $6
       WHERE id = $1 AND provider_message_id = $2 AND status = $8 AND attempts = $7`,
      [id, sid, change.status, change.dueAt, change.error, at, change.attempts, FAILURE_REPORTED_FROM],
    );
  }

  /**
   * The right PIN for delivery `id`: confirmed, no more calls. For an alert, one confirmation answers
   * for the notification: its other phone lines stop calling too.
   */
  async confirm(tx: Queryable, id: string, purpose: string, at: Date): Promise<void> {
    await tx.query(
      `UPDATE delivery SET status = ${statusAfterSql('status', `'confirmed'`)}, repeat_until = NULL, updated_at = $2 WHERE id = $1 AND status <> 'confirmed'`,
      [id, at],
    );
    if (purpose === 'alert') {
      await tx.query(
        `UPDATE delivery SET repeat_until = NULL WHERE notification_id = (SELECT notification_id FROM delivery WHERE id = $1) AND id <> $1`,
        [id],
      );
    }
  }

  /** A dead delivery gets a fresh round of attempts (its ledger keeps the old ones); false if it is not dead. */
  async retryDead(id: string, at: Date, tx: Queryable = this.db): Promise<boolean> {
    const rows: unknown[] = await tx.query(
      `WITH revived AS (
         UPDATE delivery SET status = 'pending', due_at = $2, attempts = 0, updated_at = $2 WHERE id = $1 AND status = 'dead' RETURNING id
       ) SELECT id, pg_notify($3, 'due') FROM revived`,
      [id, at, DELIVERY_CHANNEL],
    );
    return rows.length > 0;
  }
}
