import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { legacyEncrypt } from '../../../test/support/legacy-cipher.js';
import { FieldCipher, FieldDecryptError } from './field-cipher.js';

describe('FieldCipher', () => {
  const key = randomBytes(32);

  it('round-trips and never returns the same ciphertext twice', () => {
    const cipher = new FieldCipher(key);
    const a = cipher.encrypt('+15551230123', 'contact.address', 'row');
    const b = cipher.encrypt('+15551230123', 'contact.address', 'row');
    expect(a).not.toBe(b);
    expect(a).not.toContain('5551230123');
    expect(cipher.decrypt(a, 'contact.address', 'row')).toBe('+15551230123');
    expect(cipher.keyIdOf(a)).toBe(cipher.currentKeyId);
  });

  it('detects tampering', () => {
    const cipher = new FieldCipher(key);
    const stored = cipher.encrypt('victim@example.org', 'contact.address', 'row');
    const packed = Buffer.from(stored.split('.')[2], 'base64url');
    packed[packed.length - 1] ^= 1;
    expect(() => cipher.decrypt(`v2.${cipher.currentKeyId}.${packed.toString('base64url')}`, 'contact.address', 'row')).toThrow();
  });

  it('reads old ciphertexts during a rotation and writes with the new key', () => {
    const old = new FieldCipher(key);
    const stored = old.encrypt('secret', 'source.signing_secret', 'row');
    const rotated = new FieldCipher(randomBytes(32), [key]);
    expect(rotated.decrypt(stored, 'source.signing_secret', 'row')).toBe('secret');
    expect(rotated.keyIdOf(rotated.encrypt('x', 'source.signing_secret', 'row'))).not.toBe(old.currentKeyId);
    expect(() => new FieldCipher(randomBytes(32)).decrypt(stored, 'source.signing_secret', 'row')).toThrow(/unknown_key/);
  });

  it('blind index is deterministic per key', () => {
    const cipher = new FieldCipher(key);
    expect(cipher.blindIndex('a@b.c').equals(new FieldCipher(key).blindIndex('a@b.c'))).toBe(true);
    expect(cipher.blindIndex('a@b.c').equals(new FieldCipher(randomBytes(32)).blindIndex('a@b.c'))).toBe(false);
    const rotating = new FieldCipher(randomBytes(32), [key]);
    expect(rotating.blindIndexes('a@b.c')[1].equals(cipher.blindIndex('a@b.c'))).toBe(true);
  });
});

describe('FieldCipher: ciphertexts bound to their row and column', () => {
  const key = randomBytes(32);
  const rowA = '0190c2a4-0000-7000-8000-00000000000a';
  const rowB = '0190c2a4-0000-7000-8000-00000000000b';

  it('#11.17 a ciphertext copied to another row or another column does not decrypt', () => {
    const cipher = new FieldCipher(key);
    const stored = cipher.encrypt('+15551230123', 'contact.address', rowA);
    expect(cipher.decrypt(stored, 'contact.address', rowA)).toBe('+15551230123');
    expect(() => cipher.decrypt(stored, 'contact.address', rowB)).toThrow(FieldDecryptError);
    expect(() => cipher.decrypt(stored, 'registration.registrant_name', rowA)).toThrow(FieldDecryptError);
  });

  it('#11.17 a tag shorter than 16 bytes is refused', () => {
    const cipher = new FieldCipher(key);
    // An empty value leaves iv | tag: cutting the tag to 12 bytes leaves a GCM tag Node would accept by default.
    const stored = cipher.encrypt('', 'contact.address', rowA);
    const [version, keyId, packed] = stored.split('.');
    const truncated = `${version}.${keyId}.${Buffer.from(packed, 'base64url')
      .subarray(0, 12 + 12)
      .toString('base64url')}`;
    expect(() => cipher.decrypt(truncated, 'contact.address', rowA)).toThrow(FieldDecryptError);
  });

  it('#11.17 legacy values (v1, no associated data) are refused, and re-encrypted only by reencrypt', () => {
    const cipher = new FieldCipher(key);
    const legacy = legacyEncrypt(key, 'victim@example.org');
    expect(() => cipher.decrypt(legacy, 'contact.address', rowA)).toThrow(FieldDecryptError);
    const upgraded = cipher.reencrypt(legacy, 'contact.address', rowA)!;
    expect(upgraded.startsWith('v2.')).toBe(true);
    expect(cipher.decrypt(upgraded, 'contact.address', rowA)).toBe('victim@example.org');
    expect(cipher.reencrypt(upgraded, 'contact.address', rowA)).toBeUndefined();
    expect(() => cipher.reencrypt(upgraded, 'contact.address', rowB)).toThrow(FieldDecryptError);
  });

  it('#11.15 a MAC made under a previous key still verifies, in constant time, and a wrong one does not', () => {
    const old = new FieldCipher(key);
    const token = old.mac('unsubscribe', rowA);
    const rotated = new FieldCipher(randomBytes(32), [key]);
    expect(rotated.verifyMac('unsubscribe', rowA, token)).toBe(true);
    expect(rotated.verifyMac('unsubscribe', rowB, token)).toBe(false);
    // Any other last character, those that differ only in the bits base64 leaves unused included: only the token as issued verifies.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const tampered = [...alphabet].filter((ch) => !token.endsWith(ch)).map((ch) => `${token.slice(0, -1)}${ch}`);
    expect(tampered.filter((other) => rotated.verifyMac('unsubscribe', rowA, other))).toEqual([]);
    expect(rotated.verifyMac('unsubscribe', rowA, '')).toBe(false);
    expect(new FieldCipher(randomBytes(32)).verifyMac('unsubscribe', rowA, token)).toBe(false);
  });
});
