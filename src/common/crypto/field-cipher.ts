import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/**
 * AES-256-GCM for values we must read back (contact addresses, signing secrets). Each ciphertext
 * carries the id of the key that made it, so keys can be rotated while old rows stay readable.
 * Stored form: `v1.<keyId>.<base64url(iv | tag | ciphertext)>`.
 */
export class FieldCipher {
  private readonly keys = new Map<string, Buffer>();
  private readonly indexKeys: Buffer[];
  readonly currentKeyId: string;

  /** `current` encrypts; `previous` keys only decrypt (during a rotation). */
  constructor(current: Buffer, previous: Buffer[] = []) {
    this.currentKeyId = FieldCipher.keyId(current);
    for (const key of [current, ...previous]) this.keys.set(FieldCipher.keyId(key), subkey(key, 'vigil/field-encryption'));
    this.indexKeys = [current, ...previous].map((key) => subkey(key, 'vigil/blind-index'));
    this.masterForMac = current;
  }

  private readonly masterForMac: Buffer;

  /** The blind index under the current key, for writing. */
  blindIndex(value: string): Buffer {
    return createHmac('sha256', this.indexKeys[0]).update(value).digest();
  }

  /** Blind indexes under every known key, for look-ups while a rotation is under way. */
  blindIndexes(value: string): Buffer[] {
    return this.indexKeys.map((key) => createHmac('sha256', key).update(value).digest());
  }

  /** A keyed MAC for tokens in links (unsubscribe), verifiable without storing them. */
  mac(purpose: string, value: string): string {
    return createHmac('sha256', subkey(this.masterForMac, `vigil/mac/${purpose}`))
      .update(value)
      .digest('base64url');
  }

  static keyId(key: Buffer): string {
    return createHash('sha256').update(key).digest('hex').slice(0, 12);
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}.${this.currentKeyId}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  decrypt(stored: string): string {
    const [version, keyId, packed] = stored.split('.');
    const key = this.keys.get(keyId);
    if (version !== VERSION || !key || !packed) throw new Error(`cannot decrypt: unknown key ${keyId}`);
    const raw = Buffer.from(packed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }

  keyIdOf(stored: string): string {
    return stored.split('.')[1];
  }
}

/** Independent keys for independent purposes, all derived from ENCRYPTION_KEY. */
export function subkey(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), purpose, 32));
}

export function sha256(value: string | Buffer): Buffer {
  return createHash('sha256').update(value).digest();
}
