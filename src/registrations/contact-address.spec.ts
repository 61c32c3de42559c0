import { describe, expect, it } from 'vitest';
import { indexInput, maskAddress, normalizeAddress } from './contact-address.js';

describe('contact addresses', () => {
  it('parses phone numbers to E.164 with US as the default region', () => {
    expect(normalizeAddress('sms', '(555) 123-0123')).toBeUndefined(); // 555-01xx numbers are fictional and invalid
    expect(normalizeAddress('sms', '(713) 555-0123')).toBe('+17135550123');
    expect(normalizeAddress('voice', '+52 55 1234 5678')).toBe('+525512345678');
    expect(normalizeAddress('sms', 'not a phone')).toBeUndefined();
  });

  it('lower-cases and checks email addresses', () => {
    expect(normalizeAddress('email', ' Jane.Doe@Example.ORG ')).toBe('jane.doe@example.org');
    expect(normalizeAddress('email', 'jane@')).toBeUndefined();
    expect(normalizeAddress('email', 'a b@example.org')).toBeUndefined();
  });

  it('masks', () => {
    expect(maskAddress('sms', '+17135550123')).toBe('+1•••••0123');
    expect(maskAddress('email', 'jane@example.org')).toBe('j•••@example.org');
  });

  it('shares one index input between SMS and voice', () => {
    expect(indexInput('sms', '+17135550123')).toBe(indexInput('voice', '+17135550123'));
    expect(indexInput('email', 'a@b.co')).not.toBe(indexInput('sms', 'a@b.co'));
  });
});
