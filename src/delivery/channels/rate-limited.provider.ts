import type { ChannelProvider, OutboundMessage, SendResult } from './channel-provider.js';

/**
 * Spaces sends to at most `perSecond` per process (Twilio's per-number and account rates); 0 means
 * unlimited. Each caller reserves the next free slot, then waits for it.
 */
export class RateLimitedProvider implements ChannelProvider {
  private nextSlot = 0;

  constructor(
    private readonly inner: ChannelProvider,
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  get name(): string {
    return this.inner.name;
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    if (this.perSecond > 0) {
      const now = this.now();
      const slot = Math.max(now, this.nextSlot);
      this.nextSlot = slot + 1000 / this.perSecond;
      if (slot > now) await this.sleep(slot - now);
    }
    return this.inner.send(message);
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }
}
