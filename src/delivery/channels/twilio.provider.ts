import twilio from 'twilio';
import type { CallListInstance } from 'twilio/lib/rest/api/v2010/account/call.js';
import type { MessageListInstance } from 'twilio/lib/rest/api/v2010/account/message.js';
import type { ChannelProvider, OutboundMessage, SendResult } from './channel-provider.js';
import type { TwilioHttpClient } from './twilio-http-client.js';

export function twilioClient(settings: { accountSid: string; authToken: string }, transport: TwilioHttpClient): twilio.Twilio {
  return twilio(settings.accountSid, settings.authToken, { httpClient: transport as unknown as twilio.RequestClient });
}

export class TwilioSmsProvider implements ChannelProvider {
  readonly name = 'twilio-sms';
  /** Resolved once: the SDK loads its REST modules on first use, which would otherwise land on the first alert. */
  private readonly messages: MessageListInstance;

  constructor(
    client: twilio.Twilio,
    private readonly from: string,
  ) {
    this.messages = client.messages;
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    const sent = await this.messages.create({
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
  private readonly calls: CallListInstance;

  constructor(
    client: twilio.Twilio,
    private readonly from: string,
  ) {
    this.calls = client.calls;
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    const call = await this.calls.create({
      to: message.to,
      from: this.from,
      url: message.voiceUrl!,
      statusCallback: message.statusCallbackUrl,
      statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      // Wait for the greeting's end, so the neutral message said to a machine is what it records.
      machineDetection: 'DetectMessageEnd',
    });
    return { provider: this.name, providerMessageId: call.sid };
  }
}
