import { describe, expect, it } from 'vitest';
import type { ChannelProvider } from './channel-provider.js';
import { RateLimitedProvider } from './rate-limited.provider.js';

const inner: ChannelProvider = { name: 'x', send: () => Promise.resolve({ provider: 'x', providerMessageId: 'id' }) };
const message = { deliveryId: 'd', channel: 'sms' as const, to: '+1', language: 'en' as const, text: 't' };

describe('RateLimitedProvider', () => {
  it('spaces sends 1/rate apart, on a clock the test controls', async () => {
    let now = 0;
    const waits: number[] = [];
    const limited = new RateLimitedProvider(
      inner,
      4,
      () => now,
      (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    );
    await Promise.all([limited.send(message), limited.send(message), limited.send(message)]);
    expect(waits).toEqual([250, 500]);
    now = 2_000;
    await limited.send(message);
    expect(waits).toEqual([250, 500]);
  });

  it('0 means unlimited', async () => {
    const waits: number[] = [];
    const limited = new RateLimitedProvider(
      inner,
      0,
      () => 0,
      (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    );
    await Promise.all([limited.send(message), limited.send(message)]);
    expect(waits).toEqual([]);
  });
});
