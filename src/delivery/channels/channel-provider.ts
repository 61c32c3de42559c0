import type { Channel } from '../../registrations/contact-address.js';

export interface OutboundMessage {
  deliveryId: string;
  channel: Channel;
  /** The address in clear, only in memory for the length of the send. */
  to: string;
  language: 'en' | 'es';
  subject?: string;
  text: string;
  html?: string;
  /** Email: RFC 8058 one-click unsubscribe target. */
  unsubscribeUrl?: string;
  /** Voice: where Twilio fetches the call's TwiML. */
  voiceUrl?: string;
  statusCallbackUrl?: string;
}

export interface SendResult {
  provider: string;
  providerMessageId: string;
}

/** One per channel; throws the library's own error on failure, which the retry policy classifies. */
export interface ChannelProvider {
  readonly name: string;
  send(message: OutboundMessage): Promise<SendResult>;
  close?(): Promise<void>;
}
