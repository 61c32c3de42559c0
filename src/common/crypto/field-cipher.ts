import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

const VERSION = 'v2';
/** Before #11.17: no associated data. Read only by `reencrypt`, which upgrades it. */
const LEGACY_VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Every encrypted column, as `table.column`. A ciphertext is bound to its column and its row's id
 * (the associated data `table.column:rowId`), so one copied to another row or column fails to decrypt.
 */
export type CipherField =
  | 'contact.address'
  | 'registration.registrant_name'
  /** Read back only to put the manage link in alerts (src/delivery/delivery-context.service.ts). */
  | 'registration.manage_token'
  | 'source.signing_secret'
  | 'delivery.secret'
  | 'dev_outbox.recipient'
  | 'dev_outbox.subject'
  | 'dev_outbox.body'
  | 'phone_opt_out.phone'
  /** What staff did about an escalated alert: a victim's circumstances. */
  | 'escalation.resolution_note'
  /** Why staff stopped a victim's alerts at the victim's request. */
  | 'registration.stop_reason'
  /** A shared service's copy as sent: it links a victim to a shelter, a visa clinic. */
  | 'notification.message_sealed'
  /** Not a column: the victim's sealed session cookie (src/web/victim-session.ts). */
  | 'web.session';

export type DecryptFailure = 'malformed' | 'legacy' | 'unknown_key' | 'unauthentic';

/** A stored value that cannot be read. Its message names the column and the reason only, never the value. */
export class FieldDecryptError extends Error {
  constructor(
    readonly field: CipherField,
    readonly reason: DecryptFailure,
  ) {
    super(`stored ${field} cannot be decrypted (${reason})`);
    this.name = 'FieldDecryptError';
  }
}

/**
 * AES-256-GCM for values we must read back (contact addresses, signing secrets). Each ciphertext
 * carries the id of the key that made it, so keys can be rotated while old rows stay readable.
 * Stored form: `v2.<keyId>.<base64url(iv | tag (16 bytes) | ciphertext)>`, sealed with the
 * associated data `table.column:rowId`.
 */
export class FieldCipher {
  private readonly keys = new Map<string, Buffer>();
  private readonly indexKeys: Buffer[];
  private readonly masters: Buffer[];
  private readonly macKeys = new Map<string, Buffer[]>();
  readonly currentKeyId: string;
  /** Every known key's id, current first: the order of `blindIndexes`. */
  readonly keyIds: string[];

  /** `current` encrypts; `previous` keys only decrypt (during a rotation). */
  constructor(current: Buffer, previous: Buffer[] = []) {
    this.currentKeyId = FieldCipher.keyId(current);
    this.masters = [current, ...previous];
    this.keyIds = this.masters.map((key) => FieldCipher.keyId(key));
    for (const key of this.masters) this.keys.set(FieldCipher.keyId(key), subkey(key, 'vigil/field-encryption'));
    this.indexKeys = this.masters.map((key) => subkey(key, 'vigil/blind-index'));
  }

  /** The blind index under the current key, for writing. */
  blindIndex(value: string): Buffer {
    return createHmac('sha256', this.indexKeys[0]).update(value).digest();
  }

  /** Blind indexes under every known key, for look-ups while a rotation is under way. */
  blindIndexes(value: string): Buffer[] {
    return this.indexKeys.map((key) => createHmac('sha256', key).update(value).digest());
  }

  /** A keyed MAC under the current key, for tokens in links (unsubscribe) and codes, verifiable without storing them. */
  mac(purpose: string, value: string): string {
    return this.macs(purpose, value)[0].toString('base64url');
  }

  /** The MAC under every known key, current first: what was issued before a rotation still verifies. */
  macs(purpose: string, value: string): Buffer[] {
    return this.macKeysFor(purpose).map((key) => createHmac('sha256', key).update(value).digest());
  }

  /** Whether `given` is the MAC of `value` under any known key, compared in constant time. */
  verifyMac(purpose: string, value: string, given: string): boolean {
    const presented = Buffer.from(given, 'base64url');
    // Base64 leaves a few bits of the last character unused: only the token as issued is accepted, not its look-alikes.
    const canonical = presented.toString('base64url') === given;
    let valid = false;
    for (const expected of this.macs(purpose, value)) {
      // Every key is compared, so the time taken does not tell which one matched.
      if (presented.length === expected.length && timingSafeEqual(presented, expected)) valid = true;
    }
    return valid && canonical;
  }

  static keyId(key: Buffer): string {
    return createHash('sha256').update(key).digest('hex').slice(0, 12);
  }

  encrypt(plaintext: string, field: CipherField, rowId: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(field, rowId));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}.${this.currentKeyId}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  /** Throws FieldDecryptError for a value of another row or column, a cut tag, an unknown key or the legacy format. */
  decrypt(stored: string, field: CipherField, rowId: string): string {
    return this.open(stored, field, rowId, false);
  }

  /**
   * The value sealed again under the current key and the current format, or undefined when it
   * already is. The one reader of legacy (v1) values: key rotation and the upgrade at start use it.
   */
  reencrypt(stored: string, field: CipherField, rowId: string): string | undefined {
    if (this.isCurrent(stored)) {
      this.open(stored, field, rowId, false);
      return undefined;
    }
    return this.encrypt(this.open(stored, field, rowId, true), field, rowId);
  }

  /** Written in the current format under the current key. */
  isCurrent(stored: string): boolean {
    return stored.startsWith(`${VERSION}.${this.currentKeyId}.`);
  }

  keyIdOf(stored: string): string {
    return stored.split('.')[1];
  }

  private open(stored: string, field: CipherField, rowId: string, legacyAllowed: boolean): string {
    const [version, keyId, packed, extra] = stored.split('.');
    const legacy = version === LEGACY_VERSION;
    if ((version !== VERSION && !legacy) || !packed || extra !== undefined) throw new FieldDecryptError(field, 'malformed');
    if (legacy && !legacyAllowed) throw new FieldDecryptError(field, 'legacy');
    const key = this.keys.get(keyId);
    if (!key) throw new FieldDecryptError(field, 'unknown_key');
    const raw = Buffer.from(packed, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new FieldDecryptError(field, 'malformed');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      if (!legacy) decipher.setAAD(associatedData(field, rowId));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new FieldDecryptError(field, 'unauthentic');
    }
  }

  private macKeysFor(purpose: string): Buffer[] {
    let keys = this.macKeys.get(purpose);
    if (!keys) {
      keys = this.masters.map((master) => subkey(master, `vigil/mac/${purpose}`));
      this.macKeys.set(purpose, keys);
    }
    return keys;
  }
}

function associatedData(field: CipherField, rowId: string): Buffer {
  return Buffer.from(`${field}:${rowId}`, 'utf8');
}

/** Independent keys for independent purposes, all derived from ENCRYPTION_KEY. */
export function subkey(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), purpose, 32));
}

export function sha256(value: string | Buffer): Buffer {
  return createHash('sha256').update(value).digest();
}
