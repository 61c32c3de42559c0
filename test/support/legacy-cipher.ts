import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { FieldCipher } from '../../src/common/crypto/field-cipher.js';

/** The format written before #11.17: `v1.<keyId>.<iv | tag | ciphertext>`, no associated data. */
export function legacyEncrypt(master: Buffer, plaintext: string): string {
  const key = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'vigil/field-encryption', 32));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `v1.${FieldCipher.keyId(master)}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
}
