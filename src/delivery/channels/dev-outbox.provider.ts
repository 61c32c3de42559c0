import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { FieldCipher } from '../../common/crypto/field-cipher.js';
import { maskAddress } from '../../registrations/contact-address.js';
import type { ChannelProvider, OutboundMessage, SendResult } from './channel-provider.js';

/**
 * With no SMTP or Twilio settings (embedded mode or DEV_OUTBOX=true) a channel lands here: stored
 * encrypted, logged (masked) and viewable by admins (audited), never dropped.
 */
export class DevOutboxProvider implements ChannelProvider {
  readonly name = 'dev-outbox';
  private readonly logger = new Logger('DevOutbox');

  constructor(
    private readonly db: DataSource,
    private readonly cipher: FieldCipher,
  ) {}

  async send(message: OutboundMessage): Promise<SendResult> {
    const id = randomUUID();
    await this.db.query(`INSERT INTO dev_outbox (id, delivery_id, channel, recipient, subject, body) VALUES ($1, $2, $3, $4, $5, $6)`, [
      id,
      message.deliveryId,
      message.channel,
      this.cipher.encrypt(message.to, 'dev_outbox.recipient', id),
      // Alert subjects name the person: stored encrypted, like the body.
      message.subject ? this.cipher.encrypt(message.subject, 'dev_outbox.subject', id) : null,
      this.cipher.encrypt(message.text, 'dev_outbox.body', id),
    ]);
    this.logger.log(
      { outboxId: id, channel: message.channel, recipient: maskAddress(message.channel, message.to) },
      'message stored in the dev outbox',
    );
    return { provider: this.name, providerMessageId: `dev-${id}` };
  }
}
