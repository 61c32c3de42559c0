import { describe, expect, it } from 'vitest';
import { displayServicePhone, normalizeServicePhone, spokenServicePhone, telUri } from './service-phone.js';

describe('#14 a service directory phone number', () => {
  it.each([
    ['988', '988'],
    ['211', '211'],
    ['1-800-799-7233', '+18007997233'],
    ['(800) 799-7233', '+18007997233'],
    ['1-855-48-VOICE', '+18554886423'],
    ['+1 713 555 0123 ext. 4', '+17135550123;ext=4'],
    ['713-555-0123 x120', '+17135550123;ext=120'],
    ['+52 55 1234 5678', '+525512345678'],
  ])('#14 accepts %s as %s', (input, stored) => {
    expect(normalizeServicePhone(input)).toBe(stored);
  });

  it.each(['', '12', '999', '1-800', 'javascript:alert(1)', 'call us', '+1 800 799 72333333', '713\u0000555 0123', 'tel:+18007997233'])(
    '#14 refuses %j',
    (input) => {
      expect(normalizeServicePhone(input)).toBeUndefined();
    },
  );

  it('#14 shows, dials and reads a number the way people use it', () => {
    expect(displayServicePhone('+18007997233')).toBe('(800) 799-7233');
    expect(displayServicePhone('+17135550123;ext=4', 'ext.')).toBe('(713) 555-0123 ext. 4');
    expect(displayServicePhone('+525512345678')).toBe('+52 55 1234 5678');
    expect(displayServicePhone('988')).toBe('988');
    expect(telUri('+17135550123;ext=4')).toBe('tel:+17135550123;ext=4');
    expect(spokenServicePhone('+18007997233', 'extension')).toBe('8 0 0, 7 9 9, 7 2 3 3');
    expect(spokenServicePhone('+17135550123;ext=12', 'extensión')).toBe('7 1 3, 5 5 5, 0 1 2 3, extensión 1 2');
    expect(spokenServicePhone('988', 'extension')).toBe('9 8 8');
    expect(spokenServicePhone('+525512345678', 'extension')).toBe('+5 2, 5 5, 1 2 3 4, 5 6 7 8');
  });
});
