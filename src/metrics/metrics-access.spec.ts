import { describe, expect, it } from 'vitest';
import { checkMetricsAccess, isLoopback } from './metrics-access.js';

const TOKEN = 'a-metrics-token-long-enough';

describe('#15 metrics access', () => {
  it('#15 without a token configured, admits loopback peers only', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
      expect(() => checkMetricsAccess(undefined, { authorization: undefined, remoteAddress: address })).not.toThrow();
    }
    for (const address of ['192.0.2.2', '::ffff:10.0.0.1', 'fd00::2', '1270.0.0.1', undefined]) {
      expect(() => checkMetricsAccess(undefined, { authorization: undefined, remoteAddress: address })).toThrow(
        expect.objectContaining({ kind: 'forbidden' }),
      );
    }
  });

  it('#15 without a token configured, refuses a loopback peer that forwards for someone else (a proxy on this host)', () => {
    for (const forwarded of [['203.0.113.7'], ['for=203.0.113.7']]) {
      expect(() => checkMetricsAccess(undefined, { authorization: undefined, remoteAddress: '127.0.0.1', forwarded })).toThrow(
        expect.objectContaining({ kind: 'forbidden' }),
      );
    }
    expect(() => checkMetricsAccess(undefined, { authorization: undefined, remoteAddress: '127.0.0.1', forwarded: [] })).not.toThrow();
  });

  it('#15 with a token configured, requires it from every peer, loopback included', () => {
    expect(() => checkMetricsAccess(TOKEN, { authorization: `Bearer ${TOKEN}`, remoteAddress: '192.0.2.2' })).not.toThrow();
    expect(() => checkMetricsAccess(TOKEN, { authorization: `bearer ${TOKEN}`, remoteAddress: '192.0.2.2' })).not.toThrow();
    for (const authorization of [undefined, '', TOKEN, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`]) {
      expect(() => checkMetricsAccess(TOKEN, { authorization, remoteAddress: '127.0.0.1' })).toThrow(
        expect.objectContaining({ kind: 'unauthorized' }),
      );
    }
  });

  it('#15 reads IPv4-mapped addresses as their IPv4 address', () => {
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopback('::ffff:192.0.2.2')).toBe(false);
  });
});
