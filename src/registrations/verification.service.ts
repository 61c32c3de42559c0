import { randomInt, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { FieldCipher } from '../common/crypto/field-cipher.js';
import { DomainError } from '../common/problem/domain-error.js';
import { type Queryable, returning } from '../database/queryable.js';
import type { Channel } from './contact-address.js';

export const CODE_TTL_MS = 30 * 60_000;
export const MAX_CODE_ATTEMPTS = 5;
export const RESEND_COOLDOWN_MS = 60_000;

/** Wakes the dispatcher when a transaction that queued deliveries commits. */
export const DELIVERY_CHANNEL = 'vigil_delivery';

/**
 * Contacts prove they are reachable before they get anything else: a 6-digit code over the
 * contact's own channel (valid 30 minutes, 5 tries), or for a phone line, a call that asks for
 * the registration's PIN. The code is stored only as a keyed hash; the copy the message needs
 * travels encrypted in the delivery row.
 */
@Injectable()
export class VerificationService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly cipher: FieldCipher,
  ) {}

  /** Issues a code (or a call) and queues its message, inside the caller's transaction. */
  async start(db: Queryable, contactId: string, channel: Channel): Promise<void> {
    const now = this.clock.now();
    if (channel === 'voice') {
      await db.query(`UPDATE contact SET code_sent_at = $2 WHERE id = $1`, [contactId, now]);
      await this.enqueue(db, contactId, channel, null);
      return;
    }
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    await db.query(
      `UPDATE contact SET code_hash = $2, code_expires_at = $3, code_attempts = 0, locked_at = NULL, code_sent_at = $4 WHERE id = $1`,
      [contactId, this.codeHash(contactId, code), new Date(now.getTime() + CODE_TTL_MS), now],
    );
    const deliveryId = randomUUID();
    await this.enqueue(db, contactId, channel, this.cipher.encrypt(code, 'delivery.secret', deliveryId), deliveryId);
  }

  async verify(registrationId: string, contactId: string, code: string): Promise<{ contactId: string; verified: true }> {
    const contact = await this.find(this.db, registrationId, contactId);
    if (contact.verified_at) return { contactId, verified: true };
    if (contact.channel === 'voice') {
      throw new DomainError('invalid', 'VERIFY_BY_CALL', 'A phone line is verified by entering the PIN during the verification call.');
    }
    if (contact.locked_at) throw this.locked();
    if (!contact.code_hash || !contact.code_expires_at || contact.code_expires_at.getTime() <= this.clock.now().getTime()) {
      throw new DomainError('invalid', 'CODE_EXPIRED', 'The code has expired. Ask for a new one.', {
        errors: [{ path: 'code', message: 'has expired' }],
      });
    }
    // Take a try before judging it, so parallel guesses cannot exceed the limit.
    const [taken] = await returning<{ code_attempts: number; code_hash: Buffer }>(
      this.db,
      `UPDATE contact SET code_attempts = code_attempts + 1
       WHERE id = $1 AND verified_at IS NULL AND locked_at IS NULL AND code_attempts < $2
       RETURNING code_attempts, code_hash`,
      [contactId, MAX_CODE_ATTEMPTS],
    );
    if (!taken) throw this.locked();
    // Checked under the previous keys too: a code sent before a key rotation works until it expires.
    if (taken.code_hash && this.cipher.verifyMac('verification-code', `${contactId}:${code}`, taken.code_hash.toString('base64url'))) {
      await this.db.query(
        `UPDATE contact SET verified_at = $2, verified_by = 'code', code_hash = NULL, code_expires_at = NULL, code_attempts = 0 WHERE id = $1`,
        [contactId, this.clock.now()],
      );
      return { contactId, verified: true };
    }
    if (taken.code_attempts >= MAX_CODE_ATTEMPTS) {
      await this.db.query(`UPDATE contact SET locked_at = $2 WHERE id = $1`, [contactId, this.clock.now()]);
      throw this.locked();
    }
    throw new DomainError('invalid', 'CODE_WRONG', 'That code is not correct.', { errors: [{ path: 'code', message: 'is not correct' }] });
  }

  /** A new code (or call); also the way out of a lockout, at most once a minute. */
  async resend(registrationId: string, contactId: string): Promise<{ contactId: string }> {
    await this.db.transaction(async (tx) => {
      const contact = await this.find(tx, registrationId, contactId, true);
      if (contact.verified_at || contact.status === 'stopped') return;
      const since = contact.code_sent_at ? this.clock.now().getTime() - contact.code_sent_at.getTime() : Infinity;
      if (since < RESEND_COOLDOWN_MS) {
        throw new DomainError('rate_limited', 'RESEND_TOO_SOON', 'A code was sent moments ago; wait a minute before asking again.', {
          retryAfterSeconds: Math.ceil((RESEND_COOLDOWN_MS - since) / 1000),
        });
      }
      await this.start(tx, contactId, contact.channel);
    });
    return { contactId };
  }

  private async find(db: Queryable, registrationId: string, contactId: string, forUpdate = false) {
    const rows: {
      channel: Channel;
      verified_at: Date | null;
      locked_at: Date | null;
      code_hash: Buffer | null;
      code_expires_at: Date | null;
      code_sent_at: Date | null;
      status: string;
    }[] = await db.query(
      `SELECT c.channel, c.verified_at, c.locked_at, c.code_hash, c.code_expires_at, c.code_sent_at, r.status
       FROM contact c JOIN registration r ON r.id = c.registration_id
       WHERE c.id = $2 AND c.registration_id = $1 ${forUpdate ? 'FOR UPDATE OF c' : ''}`,
      [registrationId, contactId],
    );
    if (!rows.length) throw new DomainError('not_found', 'CONTACT_NOT_FOUND', 'No such contact.');
    return rows[0];
  }

  private locked(): DomainError {
    return new DomainError('rate_limited', 'CONTACT_LOCKED', 'Too many wrong codes. Ask for a new code.', {
      retryAfterSeconds: RESEND_COOLDOWN_MS / 1000,
    });
  }

  private codeHash(contactId: string, code: string): Buffer {
    return Buffer.from(this.cipher.mac('verification-code', `${contactId}:${code}`), 'base64url');
  }

  private async enqueue(db: Queryable, contactId: string, channel: Channel, secret: string | null, id = randomUUID()): Promise<void> {
    await db.query(`INSERT INTO delivery (id, purpose, contact_id, channel, secret, due_at) VALUES ($5, 'verification', $1, $2, $3, $4)`, [
      contactId,
      channel,
      secret,
      this.clock.now(),
      id,
    ]);
    await db.query(`SELECT pg_notify($1, 'due')`, [DELIVERY_CHANNEL]);
  }
}
