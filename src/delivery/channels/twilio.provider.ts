import twilio from 'twilio';
import RequestClient from 'twilio/lib/base/RequestClient.js';
import type { ChannelProvider, OutboundMessage, SendResult } from './channel-provider.js';

/**
 * Twilio's SDK has no base-URL option: this client sends every REST call to TWILIO_API_BASE_URL
 * (scheme, host, port), keeping the SDK's paths (/2010-04-01/…). For regional edges and test fakes.
 */
class RedirectingRequestClient extends RequestClient {
  constructor(private readonly baseUrl: string) {
    super({ timeout: 20_000, keepAlive: true });
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const target = new URL(opts.uri);
    const base = new URL(this.baseUrl);
    target.protocol = base.protocol;
    target.host = base.host;
    return super.request({ ...opts, uri: target.toString() });
  }
}

export function twilioClient(settings: { accountSid: string; authToken: string; apiBaseUrl?: string }): twilio.Twilio {
  return twilio(settings.accountSid, settings.authToken, {
    httpClient: settings.apiBaseUrl
      ? new RedirectingRequestClient(settings.apiBaseUrl)
      : new RequestClient({ timeout: 20_000, keepAlive: true }),
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
