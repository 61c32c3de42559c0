import { describe, expect, it } from 'vitest';
import { clientOf } from './rate-limit.js';

describe('clientOf', () => {
  it('#11.14 counts an IPv4 address as itself, an IPv4-mapped one as its IPv4, and an IPv6 address by its /64', () => {
    expect(clientOf('203.0.113.7')).toBe('203.0.113.7');
    expect(clientOf('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientOf('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(clientOf('2001:db8:1:2::ffff')).toBe('2001:db8:1:2::/64');
    expect(clientOf('2001:0db8:0001:0002:0000::1')).toBe('2001:db8:1:2::/64');
    expect(clientOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientOf('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientOf('::1')).toBe('0:0:0:0::/64');
    expect(clientOf(undefined)).toBe('unknown');
  });
});
