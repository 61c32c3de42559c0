import { describe, expect, it } from 'vitest';
import { acceptedPhonesMessage, indexInput, maskAddress, normalizeAddress, phoneRefusal } from './contact-address.js';

const TERRITORIES = ['US', 'PR', 'GU', 'VI', 'AS', 'MP'];

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

  it.each([
    ['a US line that may be mobile or fixed', '+17135550123', TERRITORIES],
    ['a Puerto Rico line', '+17872345678', TERRITORIES],
    ['a Guam line', '+16712345678', TERRITORIES],
    ['a US Virgin Islands line', '+13407123456', TERRITORIES],
    ['an American Samoa fixed line', '+16846221234', TERRITORIES],
    ['an American Samoa mobile', '+16847331234', TERRITORIES],
    ['a Northern Mariana Islands line', '+16702345678', TERRITORIES],
    ['a mobile', '+4915112345678', ['DE']],
    ['a fixed line', '+442071838750', ['GB']],
    ['a VoIP number', '+445612345678', ['GB']],
  ])('#11.12 accepts %s', (_, number, countries) => {
    expect(phoneRefusal(number, countries)).toBeUndefined();
  });

  it.each([
    ['premium-rate', '+19005550100'],
    ['toll-free', '+18885550100'],
    ['personal-number (5XX)', '+15005550006'],
    ['unknown-type (no such American Samoa line)', '+16845550100'],
    ['shared-cost', '+34902123456', ['ES']],
    ['UAN', '+443001234567', ['GB']],
    ['pager', '+447640123456', ['GB']],
    ['voicemail', '+3934212345678', ['IT']],
  ])('#11.12 refuses a %s number: nobody answers it', (_, number, countries = TERRITORIES) => {
    expect(phoneRefusal(number, countries)).toBe('type');
  });

  it('#11.12 refuses numbers outside the configured countries', () => {
    expect(phoneRefusal('+447911123456', TERRITORIES)).toBe('country');
    expect(phoneRefusal('+4915112345678', TERRITORIES)).toBe('country');
    expect(phoneRefusal('+17135550123', ['PR'])).toBe('country');
    expect(phoneRefusal('+17872345678', ['PR'])).toBeUndefined();
  });

  it('#11.12 says which numbers are accepted', () => {
    expect(acceptedPhonesMessage(TERRITORIES)).toBe('must be a mobile, landline or VoIP number in US, PR, GU, VI, AS or MP');
    expect(acceptedPhonesMessage(['US'])).toBe('must be a mobile, landline or VoIP number in US');
  });
});
