import nodemailer, { type Transporter } from 'nodemailer';
import type { ChannelProvider, OutboundMessage, SendResult } from './channel-provider.js';

/** SMTP through nodemailer's pool. Every message carries Content-Language and, for alerts, one-click unsubscribe. */
export class EmailProvider implements ChannelProvider {
  readonly name = 'smtp';
  private readonly transport: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    const url = new URL(smtpUrl);
    url.searchParams.set('pool', 'true');
    this.transport = nodemailer.createTransport(url.toString(), {
      connectionTimeout: 10_000,
      socketTimeout: 20_000,
      greetingTimeout: 10_000,
    } as never);
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    const headers: Record<string, string> = { 'Content-Language': message.language };
    if (message.unsubscribeUrl) {
      headers['List-Unsubscribe'] = `<${message.unsubscribeUrl}>`;
      headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
    }
    const info = await this.transport.sendMail({
      from: this.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      headers,
    });
    return { provider: this.name, providerMessageId: String(info.messageId) };
  }

  async close(): Promise<void> {
    this.transport.close();
    return Promise.resolve();
  }
}
