import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { firstTimeHeard } from '../common/twilio-replay.js';
import { FieldCipher } from '../common/crypto/field-cipher.js';
import { returning } from '../database/queryable.js';
import { retryingTransaction } from '../database/retrying-transaction.js';
import { indexInput, normalizeAddress } from './contact-address.js';
import { suppressWaitingDeliveries } from './waiting-deliveries.js';
import { DeliveryRepository } from '../database/delivery.repository.js';

export const STOP_WORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT'];
export const START_WORDS = ['START', 'UNSTOP', 'YES'];
export const HELP_WORDS = ['HELP', 'INFO', 'AYUDA'];

export const HELP_TEXT =
  'Vigil custody alerts. Reply STOP to stop texts, START to resume. Manage alerts with your manage link. In danger? Call 911. / ' +
  'Alertas Vigil. Responda STOP para detener, START para reanudar. ¿En peligro? Llame al 911.';

export type Keyword = 'stop' | 'start' | 'help' | 'other';

export function keywordOf(body: string): Keyword {
  const word = body.trim().split(/\s+/)[0]?.toUpperCase() ?? '';
  if (STOP_WORDS.includes(word)) return 'stop';
  if (START_WORDS.includes(word)) return 'start';
  if (HELP_WORDS.includes(word)) return 'help';
  return 'other';
}

/** Consent: STOP from a phone number ends SMS to it for every registration; one-click unsubscribe ends email to one contact. */
@Injectable()
export class OptOutService {
  private readonly logger = new Logger(OptOutService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly cipher: FieldCipher,
    private readonly deliveries: DeliveryRepository,
  ) {}

  /**
   * Found by blind index (under every key during a rotation), never by decrypting rows. Each inbound
   * message (`messageSid`) is applied once, in the order Twilio delivered them, as Twilio's own
   * opt-out handling does: a replayed STOP after a START is not a new STOP.
   */
  async smsKeyword(from: string, body: string, messageSid?: string): Promise<Keyword> {
    const keyword = keywordOf(body);
    const phone = normalizeAddress('sms', from);
    if (!phone || keyword === 'other' || keyword === 'help') return keyword;
    const indexes = this.cipher.blindIndexes(indexInput('sms', phone));
    const now = this.clock.now();
    const applied = await retryingTransaction(this.db, async (tx) => {
      if (messageSid && !(await firstTimeHeard(tx, messageSid, 'inbound', now))) return false;
      if (keyword === 'stop') {
        // The number itself is kept too (encrypted), so a key rotation can carry the STOP to the new key's index.
        await tx.query(
          `INSERT INTO phone_opt_out (address_index, phone, key_id, opted_out_at)
           SELECT i, p, k, $4 FROM unnest($1::bytea[], $2::text[], $3::text[]) AS v(i, p, k)
           ON CONFLICT (address_index) DO UPDATE
             SET phone = coalesce(phone_opt_out.phone, EXCLUDED.phone), key_id = coalesce(phone_opt_out.key_id, EXCLUDED.key_id)`,
          [
            indexes,
            indexes.map((index) => this.cipher.encrypt(phone, 'phone_opt_out.phone', index.toString('hex'))),
            this.cipher.keyIds,
            now,
          ],
        );
        await suppressWaitingDeliveries(this.deliveries, tx, { smsTo: indexes }, now);
      } else {
        await tx.query(`DELETE FROM phone_opt_out WHERE address_index = ANY($1::bytea[])`, [indexes]);
      }
      return true;
    });
    this.logger.log({ keyword, replay: !applied }, applied ? 'sms consent keyword applied' : 'sms consent keyword replayed: ignored');
    return keyword;
  }

  unsubscribeToken(contactId: string): string {
    return this.cipher.mac('unsubscribe', contactId);
  }

  /**
   * A link is valid while its registration lasts. Its token is checked in constant time under the
   * previous keys too, so links in emails sent before a key rotation keep working.
   */
  async linkValid(contactId: string, token: string): Promise<boolean> {
    if (!this.cipher.verifyMac('unsubscribe', contactId, token)) return false;
    const rows: unknown[] = await this.db.query(
      `SELECT 1 FROM contact c JOIN registration r ON r.id = c.registration_id WHERE c.id = $1 AND r.status = 'active'`,
      [contactId],
    );
    return rows.length > 0;
  }

  /** RFC 8058 one-click: the token in the link is a MAC of the contact id, so nothing is stored for it. */
  async unsubscribe(contactId: string, token: string): Promise<boolean> {
    if (!this.cipher.verifyMac('unsubscribe', contactId, token)) return false;
    const now = this.clock.now();
    return retryingTransaction(this.db, async (tx) => {
      const updated = await returning<{ id: string }>(
        tx,
        `UPDATE contact c SET unsubscribed_at = coalesce(c.unsubscribed_at, $2) FROM registration r
         WHERE c.id = $1 AND r.id = c.registration_id AND r.status = 'active' RETURNING c.id`,
        [contactId, now],
      );
      if (!updated.length) return false;
      await suppressWaitingDeliveries(this.deliveries, tx, { contactId }, now);
      return true;
    });
  }
}
