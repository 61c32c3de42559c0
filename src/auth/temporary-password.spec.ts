import { describe, expect, it } from 'vitest';
import { temporaryPassword } from './temporary-password.js';

describe('#14.1 temporary staff passwords', () => {
  it('#14.1 are five groups of five unambiguous characters, and differ every time', () => {
    const made = Array.from({ length: 200 }, temporaryPassword);
    for (const password of made) expect(password).toMatch(/^[a-hjkmnp-z2-9]{5}(-[a-hjkmnp-z2-9]{5}){4}$/);
    expect(new Set(made).size).toBe(made.length);
  });
});
