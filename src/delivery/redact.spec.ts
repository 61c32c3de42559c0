import { describe, expect, it } from 'vitest';
import { redactAddresses } from './dispatcher.service.js';

describe('redactAddresses', () => {
  it('removes phone numbers and email addresses from provider errors', () => {
    expect(redactAddresses("The 'To' number +17135550123 is not a valid phone number.")).toBe(
      "The 'To' number [number] is not a valid phone number.",
    );
    expect(redactAddresses('550 5.1.1 <victim@example.org>: Recipient address rejected')).toBe(
      '550 5.1.1 <[address]>: Recipient address rejected',
    );
    expect(redactAddresses('Error 21211 at (713) 555-0123')).toBe('Error 21211 at [number]');
    expect(redactAddresses('connect ECONNREFUSED 127.0.0.1:4010')).toContain('ECONNREFUSED');
  });
});
