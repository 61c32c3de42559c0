import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FieldCipher } from './field-cipher.js';

describe('FieldCipher', () => {
  const key = randomBytes(32);

  it('round-trips and never returns the same ciphertext twice', () => {
    const cipher = new FieldCipher(key);
    const a = cipher.encrypt('+15551230123');
    const b = cipher.encrypt('+15551230123');
    expect(a).not.toBe(b);
    expect(a).not.toContain('5551230123');
    expect(cipher.decrypt(a)).toBe('+15551230123');
    expect(cipher.keyIdOf(a)).toBe(cipher.currentKeyId);
  });

  it('detects tampering', () => {
    const cipher = new FieldCipher(key);
    const stored = cipher.encrypt('victim@example.org');
    const packed = Buffer.from(stored.split('.')[2], 'base64url');
    packed[packed.length - 1] ^= 1;
    expect(() => cipher.decrypt(`v1.${cipher.currentKeyId}.${packed.toString('base64url')}`)).toThrow();
  });

  it('reads old ciphertexts during a rotation and writes with the new key', () => {
    const old = new FieldCipher(key);
    const stored = old.encrypt('secret');
    const rotated = new FieldCipher(randomBytes(32), [key]);
    expect(rotated.decrypt(stored)).toBe('secret');
    expect(rotated.keyIdOf(rotated.encrypt('x'))).not.toBe(old.currentKeyId);
    expect(() => new FieldCipher(randomBytes(32)).decrypt(stored)).toThrow(/unknown key/);
  });

  it('blind index is deterministic per key', () => {
    const cipher = new FieldCipher(key);
    expect(cipher.blindIndex('a@b.c').equals(new FieldCipher(key).blindIndex('a@b.c'))).toBe(true);
    expect(cipher.blindIndex('a@b.c').equals(new FieldCipher(randomBytes(32)).blindIndex('a@b.c'))).toBe(false);
    const rotating = new FieldCipher(randomBytes(32), [key]);
    expect(rotating.blindIndexes('a@b.c')[1].equals(cipher.blindIndex('a@b.c'))).toBe(true);
  });
});
