import { randomInt, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { StaffPrincipal } from '../auth/staff-auth.guard.js';
import { AuditService } from '../common/audit.service.js';
import { Clock } from '../common/clock.js';
import { FieldCipher } from '../common/crypto/field-cipher.js';
import { every, stopEvery } from '../common/intervals.js';
import { DomainError } from '../common/problem/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DeliveryRepository } from '../database/delivery.repository.js';
import { type Queryable, returning } from '../database/queryable.js';
import { retryingTransaction } from '../database/retrying-transaction.js';
import { foldCodeSends } from './code-sends.js';
import { type Channel, indexInput } from './contact-address.js';
import { suppressWaitingDeliveries } from './waiting-deliveries.js';

export const CODE_TTL_MS = 30 * 60_000;
/** Every this many wrong codes lock the contact for LOCK_MS; twice as many in a day lock it until a specialist helps. */
export const MAX_CODE_ATTEMPTS = 5;
export const MAX_CODE_ATTEMPTS_PER_DAY = 10;
export const LOCK_MS = 60 * 60_000;
export const RESEND_COOLDOWN_MS = 60_000;
/** Code sends per destination, wrong-code counts and unverified registrations all live this long. */
export const DAY_MS = 24 * 60 * 60_000;
const SWEEP_MS = 5 * 60_000;
const SWEEP_BATCH = 500;

/**
 * A registration nobody has verified yet is gone once its day is over, before and after the sweep
 * marks it; so, to codes, is a contact still unverified then (find() checks its verify_by), and
 * every contact of a registration retention erased (it has no address left).
 */
const LIVE = (at: string) => `r.status <> 'expired' AND r.erased_at IS NULL AND (r.expires_at IS NULL OR r.expires_at > ${at})`;

/** Whether a wrong-code count has aged out: it counts from the first wrong code for a day. */
const FRESH_DAY = `(code_attempts_since IS NULL OR code_attempts_since <= $2::timestamptz - interval '1 day')`;
const TRIES = `(CASE WHEN ${FRESH_DAY} THEN 1 ELSE code_attempts + 1 END)`;

interface ContactState {
  channel: Channel;
  address: string;
  verifiedAt: Date | null;
  lockedAt: Date | null;
  codeLockedUntil: Date | null;
  codeHash: Buffer | null;
  codeExpiresAt: Date | null;
  codeSentAt: Date | null;
  status: string;
}

/**
 * Contacts prove they are reachable before they get anything else: a 6-digit code over the
 * contact's own channel (valid 30 minutes), or for a phone line, a call that asks for the
 * registration's PIN. The code is stored only as a keyed hash; the copy the message needs travels
 * encrypted in the delivery row.
 *
 * Limits, so that nobody can aim Vigil at someone else's phone or guess a code: one destination
 * (a phone number, SMS and calls together, or an email address) gets at most
 * CODES_PER_NUMBER_PER_DAY codes or calls in any 24 hours, across every registration; every 5 wrong
 * codes lock the contact for an hour and 10 in a day until a specialist sends a new code (a new code
 * never resets the count); a registration no contact has verified within a day expires.
 */
@Injectable()
export class VerificationService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(VerificationService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly cipher: FieldCipher,
    private readonly audit: AuditService,
    private readonly scheduler: SchedulerRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly deliveries: DeliveryRepository,
  ) {}

  onModuleInit(): void {
    if (this.config.role === 'api') return;
    every(this.scheduler, 'registration-expiry', SWEEP_MS, () => this.expireUnverified(), this.logger);
  }

  onModuleDestroy(): void {
    stopEvery(this.scheduler, 'registration-expiry');
  }

  /**
   * Codes for a new registration's contacts, inside its transaction. Contacts whose destination has
   * had its codes for the day get none, silently: the registration's answer must not tell.
   * Destinations are claimed in index order: two sign-ups naming the same addresses queue for them
   * instead of deadlocking.
   * Each contact has a day to be verified.
   */
  async startAll(db: Queryable, contactIds: string[]): Promise<void> {
    await db.query(`UPDATE contact SET verify_by = $2 WHERE id = ANY($1::uuid[])`, [
      contactIds,
      new Date(this.clock.now().getTime() + DAY_MS),
    ]);
    const contacts: { id: string; channel: Channel; address: string }[] = await db.query(
      `SELECT id, channel, address FROM contact WHERE id = ANY($1::uuid[]) ORDER BY address_index, position`,
      [contactIds],
    );
    for (const contact of contacts) await this.start(db, contact.id, contact.channel, this.destinationOf(contact.id, contact));
  }

  /**
   * A destination (SMS and calls to a number are one) as the blind indexes of its normalized
   * address under every known key, the current key's first: during a key rotation its sends of the
   * day may be under any of them.
   */
  destination(channel: Channel, address: string): Buffer[] {
    return this.cipher.blindIndexes(indexInput(channel, address));
  }

  private destinationOf(contactId: string, contact: { channel: Channel; address: string }): Buffer[] {
    return this.destination(contact.channel, this.cipher.decrypt(contact.address, 'contact.address', contactId));
  }

  /** Issues a code (or a call) and queues its message, inside the caller's transaction; false when the destination's codes are paused. */
  private async start(db: Queryable, contactId: string, channel: Channel, destination: Buffer[]): Promise<boolean> {
    const now = this.clock.now();
    if (!(await this.claimSend(db, destination, now))) return false;
    if (channel === 'voice') {
      await db.query(`UPDATE contact SET code_sent_at = $2 WHERE id = $1`, [contactId, now]);
      await this.deliveries.enqueueVerification(db, contactId, channel, null, now);
      return true;
    }
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    await db.query(`UPDATE contact SET code_hash = $2, code_expires_at = $3, code_sent_at = $4 WHERE id = $1`, [
      contactId,
      this.codeHash(contactId, code),
      new Date(now.getTime() + CODE_TTL_MS),
      now,
    ]);
    const deliveryId = randomUUID();
    await this.deliveries.enqueueVerification(
      db,
      contactId,
      channel,
      this.cipher.encrypt(code, 'delivery.secret', deliveryId),
      now,
      deliveryId,
    );
    return true;
  }

  /**
   * Takes one of the destination's sends for the last 24 hours, or none if they are all taken. One
   * upsert: the row lock it takes makes concurrent registrations, in any process, queue for it.
   * During a key rotation the sends recorded under the older keys' indexes are folded into the
   * current key's row first (locking them first), so they count, once, and the upsert stays the judge.
   */
  private async claimSend(db: Queryable, [addressIndex, ...older]: Buffer[], now: Date): Promise<boolean> {
    await foldCodeSends(db, older, addressIndex);
    const claimed = await returning<{ n: number }>(
      db,
      `INSERT INTO code_send AS s (address_index, sent_at, last_sent_at) VALUES ($1, ARRAY[$2::timestamptz], $2)
       ON CONFLICT (address_index) DO UPDATE
         SET sent_at = array_append(ARRAY(SELECT t FROM unnest(s.sent_at) t WHERE t > $2::timestamptz - interval '1 day' ORDER BY t), $2::timestamptz),
             last_sent_at = greatest(s.last_sent_at, $2)
         WHERE (SELECT count(*) FROM unnest(s.sent_at) t WHERE t > $2::timestamptz - interval '1 day') < $3
       RETURNING cardinality(s.sent_at) AS n`,
      [addressIndex, now, this.config.codesPerNumberPerDay],
    );
    return claimed.length > 0;
  }

  /**
   * For each destination (see `destination`), when its oldest send of the day ages out if its codes
   * are paused now, else undefined. Its sends are counted under every index it has.
   */
  async pausedUntil(db: Queryable, destinations: Buffer[][]): Promise<(Date | undefined)[]> {
    // Each index once per destination: a key listed twice must not count its sends twice.
    const pairs = destinations.flatMap((indexes, n) =>
      indexes.filter((index, i) => indexes.findIndex((other) => other.equals(index)) === i).map((index) => ({ n, index })),
    );
    if (!pairs.length) return [];
    const rows: { n: number; until: Date }[] = await db.query(
      `SELECT d.n, min(t) + interval '1 day' AS until
       FROM unnest($1::int[], $2::bytea[]) AS d(n, address_index)
       JOIN code_send s ON s.address_index = d.address_index CROSS JOIN LATERAL unnest(s.sent_at) t
       WHERE t > $3::timestamptz - interval '1 day'
       GROUP BY d.n HAVING count(*) >= $4`,
      [pairs.map((pair) => pair.n), pairs.map((pair) => pair.index), this.clock.now(), this.config.codesPerNumberPerDay],
    );
    const until = new Map(rows.map((row) => [row.n, row.until]));
    return destinations.map((_, n) => until.get(n));
  }

  async verify(registrationId: string, contactId: string, code: string): Promise<{ contactId: string; verified: true }> {
    const now = this.clock.now();
    const contact = await this.find(this.db, registrationId, contactId);
    if (contact.verifiedAt) return { contactId, verified: true };
    if (contact.channel === 'voice') {
      throw new DomainError('invalid', 'VERIFY_BY_CALL', 'A phone line is verified by entering the PIN during the verification call.');
    }
    this.refuseIfLocked(contact, now);
    if (!contact.codeHash || !contact.codeExpiresAt || contact.codeExpiresAt.getTime() <= now.getTime()) {
      throw new DomainError('invalid', 'CODE_EXPIRED', 'The code has expired. Ask for a new one.', {
        errors: [{ path: 'code', message: 'has expired' }],
      });
    }
    // Take a try before judging it, and lock as the try is taken, so parallel guesses cannot exceed the limit.
    const [taken] = await returning<{ codeAttempts: number; codeHash: Buffer; codeLockedUntil: Date | null; lockedAt: Date | null }>(
      this.db,
      `UPDATE contact SET code_attempts = ${TRIES},
         code_attempts_since = CASE WHEN ${FRESH_DAY} THEN $2 ELSE code_attempts_since END,
         code_locked_until = CASE WHEN ${TRIES} % $3::int = 0 THEN $2::timestamptz + $4::int * interval '1 second' ELSE code_locked_until END,
         locked_at = CASE WHEN ${TRIES} >= $5::int THEN $2 ELSE locked_at END
       WHERE id = $1 AND verified_at IS NULL AND locked_at IS NULL AND (code_locked_until IS NULL OR code_locked_until <= $2)
       RETURNING code_attempts AS "codeAttempts", code_hash AS "codeHash", code_locked_until AS "codeLockedUntil", locked_at AS "lockedAt"`,
      [contactId, now, MAX_CODE_ATTEMPTS, LOCK_MS / 1000, MAX_CODE_ATTEMPTS_PER_DAY],
    );
    if (!taken) {
      const current = await this.find(this.db, registrationId, contactId);
      if (current.verifiedAt) return { contactId, verified: true };
      throw this.lockedFor(current, now);
    }
    // Checked under the previous keys too: a code sent before a key rotation works until it expires.
    if (taken.codeHash && this.cipher.verifyMac('verification-code', `${contactId}:${code}`, taken.codeHash.toString('base64url'))) {
      await this.db.query(
        `UPDATE contact SET verified_at = $2, verified_by = 'code', code_hash = NULL, code_expires_at = NULL,
           code_attempts = 0, code_attempts_since = NULL, code_locked_until = NULL, locked_at = NULL WHERE id = $1`,
        [contactId, now],
      );
      return { contactId, verified: true };
    }
    if (taken.lockedAt || taken.codeAttempts % MAX_CODE_ATTEMPTS === 0) throw this.lockedFor(taken, now);
    throw new DomainError('invalid', 'CODE_WRONG', 'That code is not correct.', { errors: [{ path: 'code', message: 'is not correct' }] });
  }

  /**
   * A new code (or call), at most once a minute and within the destination's daily sends. It never
   * resets the wrong-code count or lifts a lock: only a specialist's resend does that (audited).
   */
  async resend(
    registrationId: string,
    contactId: string,
    by?: { staff: StaffPrincipal; clientAddress?: string },
  ): Promise<{ contactId: string }> {
    await retryingTransaction(this.db, async (tx) => {
      const now = this.clock.now();
      const contact = await this.find(tx, registrationId, contactId, true);
      if (contact.verifiedAt || contact.status === 'stopped') return;
      if (!by) this.refuseIfLocked(contact, now);
      const since = contact.codeSentAt ? now.getTime() - contact.codeSentAt.getTime() : Infinity;
      if (since < RESEND_COOLDOWN_MS) {
        throw new DomainError('rate_limited', 'RESEND_TOO_SOON', 'A code was sent moments ago; wait a minute before asking again.', {
          retryAfterSeconds: Math.ceil((RESEND_COOLDOWN_MS - since) / 1000),
        });
      }
      if (by) {
        await tx.query(
          `UPDATE contact SET code_attempts = 0, code_attempts_since = NULL, code_locked_until = NULL, locked_at = NULL WHERE id = $1`,
          [contactId],
        );
        await this.audit.record(
          [
            {
              actor: by.staff,
              action: 'contact.resend_code',
              targetType: 'registration',
              targetId: registrationId,
              clientAddress: by.clientAddress,
              details: { contactId, unlocked: Boolean(contact.lockedAt || contact.codeLockedUntil) },
            },
          ],
          tx,
        );
      }
      const destination = this.destinationOf(contactId, contact);
      if (!(await this.start(tx, contactId, contact.channel, destination))) {
        const [until] = await this.pausedUntil(tx, [destination]);
        throw new DomainError(
          'rate_limited',
          'CODES_PAUSED',
          'This address has had as many codes as it may get in a day. Try again later.',
          { retryAfterSeconds: Math.max(1, Math.ceil(((until?.getTime() ?? now.getTime() + DAY_MS) - now.getTime()) / 1000)) },
        );
      }
    });
    return { contactId };
  }

  /**
   * Unverified self-registrations whose day is over become 'expired' (they already answer as gone),
   * and whatever was still waiting to go to them is suppressed; destinations whose sends have all
   * aged out lose their row.
   */
  async expireUnverified(): Promise<number> {
    const now = this.clock.now();
    let expired = 0;
    for (;;) {
      const batch = await retryingTransaction(this.db, async (tx) => {
        const ids = await returning<{ id: string }>(
          tx,
          `UPDATE registration SET status = 'expired', updated_at = $1
           WHERE id IN (SELECT id FROM registration WHERE status = 'active' AND expires_at <= $1 ORDER BY expires_at LIMIT ${SWEEP_BATCH}
                        FOR UPDATE SKIP LOCKED)
           RETURNING id`,
          [now],
        );
        for (const { id } of ids) await suppressWaitingDeliveries(this.deliveries, tx, { registrationId: id }, now);
        return ids.length;
      });
      expired += batch;
      if (batch < SWEEP_BATCH) break;
    }
    await this.db.query(`DELETE FROM code_send WHERE last_sent_at <= $1::timestamptz - interval '1 day'`, [now]);
    return expired;
  }

  private async find(db: Queryable, registrationId: string, contactId: string, forUpdate = false): Promise<ContactState> {
    const rows: ContactState[] = await db.query(
      `SELECT c.channel, c.address, c.verified_at AS "verifiedAt", c.locked_at AS "lockedAt", c.code_locked_until AS "codeLockedUntil",
         c.code_hash AS "codeHash", c.code_expires_at AS "codeExpiresAt", c.code_sent_at AS "codeSentAt", r.status
       FROM contact c JOIN registration r ON r.id = c.registration_id
       WHERE c.id = $2 AND c.registration_id = $1 AND ${LIVE('$3')}
         AND (c.verified_at IS NOT NULL OR c.verify_by IS NULL OR c.verify_by > $3) ${forUpdate ? 'FOR UPDATE OF c' : ''}`,
      [registrationId, contactId, this.clock.now()],
    );
    if (!rows.length) throw new DomainError('not_found', 'CONTACT_NOT_FOUND', 'No such contact.');
    return rows[0];
  }

  private refuseIfLocked(contact: Pick<ContactState, 'lockedAt' | 'codeLockedUntil'>, now: Date): void {
    if (contact.lockedAt || (contact.codeLockedUntil && contact.codeLockedUntil.getTime() > now.getTime())) {
      throw this.lockedFor(contact, now);
    }
  }

  private lockedFor(contact: Pick<ContactState, 'lockedAt' | 'codeLockedUntil'>, now: Date): DomainError {
    if (contact.lockedAt) {
      return new DomainError(
        'rate_limited',
        'CONTACT_LOCKED_FOR_HELP',
        'Too many wrong codes today. A victim services specialist can send a new code, or register again.',
        { retryAfterSeconds: DAY_MS / 1000 },
      );
    }
    const left = (contact.codeLockedUntil?.getTime() ?? now.getTime() + LOCK_MS) - now.getTime();
    return new DomainError('rate_limited', 'CONTACT_LOCKED', 'Too many wrong codes. Try again in an hour.', {
      retryAfterSeconds: Math.max(1, Math.ceil(left / 1000)),
    });
  }

  private codeHash(contactId: string, code: string): Buffer {
    return Buffer.from(this.cipher.mac('verification-code', `${contactId}:${code}`), 'base64url');
  }
}
