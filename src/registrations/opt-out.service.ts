import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { FieldCipher } from '../common/crypto/field-cipher.js';
import { retryingTransaction } from '../database/retrying-transaction.js';
import { indexInput, normalizeAddress } from './contact-address.js';
import { suppressWaitingDeliveries } from './waiting-deliveries.js';

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
  ) {}

  /** Found by blind index (under every key during a rotation), never by decrypting rows. */
  async smsKeyword(from: string, body: string): Promise<Keyword> {
    const keyword = keywordOf(body);
    const phone = normalizeAddress('sms', from);
    if (!phone || keyword === 'other' || keyword === 'help') return keyword;
    const indexes = this.cipher.blindIndexes(indexInput('sms', phone));
    const now = this.clock.now();
    await retryingTransaction(this.db, async (tx) => {
      if (keyword === 'stop') {
        await tx.query(
          `INSERT INTO phone_opt_out (address_index, opted_out_at) SELECT unnest($1::bytea[]), $2 ON CONFLICT (address_index) DO NOTHING`,
          [indexes, now],
        );
        await suppressWaitingDeliveries(tx, { smsTo: indexes }, now);
      } else {
        await tx.query(`DELETE FROM phone_opt_out WHERE address_index = ANY($1::bytea[])`, [indexes]);
      }
    });
    this.logger.log({ keyword }, 'sms consent keyword applied');
    return keyword;
  }

  unsubscribeToken(contactId: string): string {
    return this.cipher.mac('unsubscribe', contactId);
  }

  /** RFC 8058 one-click: the token in the link is a MAC of the contact id, so nothing is stored for it. */
  async unsubscribe(contactId: string, token: string): Promise<boolean> {
    if (token !== this.unsubscribeToken(contactId)) return false;
    const now = this.clock.now();
    await retryingTransaction(this.db, async (tx) => {
      await tx.query(`UPDATE contact SET unsubscribed_at = coalesce(unsubscribed_at, $2) WHERE id = $1`, [contactId, now]);
      await suppressWaitingDeliveries(tx, { contactId }, now);
    });
    return true;
  }
}
