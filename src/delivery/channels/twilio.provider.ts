import twilio from 'twilio';
import type { ChannelProvider, OutboundMessage, SendResult } from './channel-provider.js';
import { TwilioHttpClient } from './twilio-http-client.js';

export function twilioClient(settings: { accountSid: string; authToken: string; apiBaseUrl?: string }): twilio.Twilio {
  return twilio(settings.accountSid, settings.authToken, {
    httpClient: new TwilioHttpClient({ baseUrl: settings.apiBaseUrl, timeoutMs: 20_000 }) as unknown as twilio.RequestClient,
  });
}

export class TwilioSmsProvider implements ChannelProvider {
  readonly name = 'twilio-sms';

  constructor(
    private readonly client: twilio.Twilio,
    private readonly from: string,
  ) {}

  async send(message: OutboundMessage): Promise<SendResult> {
    const sent = await this.client.messages.create({
      to: message.to,
      from: this.from,
      body: message.text,
      statusCallback: message.statusCallbackUrl,
    });
    return { provider: this.name, providerMessageId: sent.sid };
  }
}

export class TwilioVoiceProvider implements ChannelProvider {
  readonly name = 'twilio-voice';

  constructor(
    private readonly client: twilio.Twilio,
    private readonly from: string,
  ) {}

  async send(message: OutboundMessage): Promise<SendResult> {
    const call = await this.client.calls.create({
      to: message.to,
      from: this.from,
      url: message.voiceUrl!,
      statusCallback: message.statusCallbackUrl,
      statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      machineDetection: 'Enable',
    });
    return { provider: this.name, providerMessageId: call.sid };
  }
}
