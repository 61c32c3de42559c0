import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { FieldCipher } from '../../common/crypto/field-cipher.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import type { Channel } from '../../registrations/contact-address.js';
import type { ChannelProvider } from './channel-provider.js';
import { DevOutboxProvider } from './dev-outbox.provider.js';
import { EmailProvider } from './email.provider.js';
import { RateLimitedProvider } from './rate-limited.provider.js';
import { TwilioHttpClient } from './twilio-http-client.js';
import { twilioClient, TwilioSmsProvider, TwilioVoiceProvider } from './twilio.provider.js';

/** One provider per channel, from configuration; a channel without settings goes to the dev outbox where it is allowed. */
@Injectable()
export class ChannelProviders {
  private readonly byChannel: Record<Channel, ChannelProvider>;
  private readonly twilioTransport?: TwilioHttpClient;

  constructor(@InjectDataSource() db: DataSource, cipher: FieldCipher, @Inject(APP_CONFIG) config: AppConfig) {
    const devOutbox = new DevOutboxProvider(db, cipher);
    // Configuration refuses to start without providers unless the dev outbox is allowed.
    const outbox = (channel: Channel): ChannelProvider => {
      if (!config.devOutbox) throw new Error(`No provider settings for ${channel} and the dev outbox is off`);
      return devOutbox;
    };
    if (config.twilio) this.twilioTransport = new TwilioHttpClient({ baseUrl: config.twilio.apiBaseUrl, timeoutMs: 20_000 });
    const twilio = config.twilio && this.twilioTransport ? twilioClient(config.twilio, this.twilioTransport) : undefined;
    this.byChannel = {
      email: config.email.smtpUrl ? new EmailProvider(config.email.smtpUrl, config.email.from) : outbox('email'),
      sms: twilio ? new TwilioSmsProvider(twilio, config.twilio!.fromNumber) : outbox('sms'),
      voice: twilio ? new TwilioVoiceProvider(twilio, config.twilio!.fromNumber) : outbox('voice'),
    };
    const unconfigured = (Object.keys(this.byChannel) as Channel[]).filter((channel) => this.byChannel[channel] === devOutbox);
    const rates: Record<Channel, number> = { email: config.email.perSecond, sms: config.rates.sms, voice: config.rates.voice };
    for (const channel of Object.keys(this.byChannel) as Channel[]) {
      if (rates[channel] > 0) this.byChannel[channel] = new RateLimitedProvider(this.byChannel[channel], rates[channel]);
    }
    if (unconfigured.length)
      new Logger(ChannelProviders.name).warn(`No provider settings for ${unconfigured.join(', ')}: those messages go to the dev outbox`);
  }

  for(channel: Channel): ChannelProvider {
    return this.byChannel[channel];
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.byChannel).map((provider) => provider.close?.() ?? Promise.resolve()));
    await this.twilioTransport?.close();
  }
}
