import type { DataSource } from 'typeorm';
import type { CipherField, FieldCipher } from '../common/crypto/field-cipher.js';
import type { Queryable } from '../database/queryable.js';
import { foldCodeSends } from './code-sends.js';
import type { Channel } from './contact-address.js';
import { indexInput } from './contact-address.js';

const BATCH = 500;
const FIRST_ID = '00000000-0000-0000-0000-000000000000';
/** The data upgrade that seals every legacy (v1, no associated data) ciphertext to its row (#11.17). */
export const CIPHERTEXT_UPGRADE = 'ciphertexts-v2';

export interface RotationResult {
  contacts: number;
  registrants: number;
  manageTokens: number;
  sources: number;
  codes: number;
  outbox: number;
  /** STOPs carried to the new key's index by the number they keep. */
  optOuts: number;
  escalationNotes: number;
  stopReasons: number;
  serviceMessages: number;
  /** Destinations whose code sends of the day were carried to the new key's index, through a contact. */
  codeSends: number;
}

type Transaction = <T>(work: (db: Queryable) => Promise<T>) => Promise<T>;

/** Encrypted columns besides contact.address (which also carries a blind index), each on a table keyed by `id`. */
const COLUMNS: {
  result: Exclude<keyof RotationResult, 'contacts' | 'optOuts' | 'codeSends'>;
  table: string;
  column: string;
  field: CipherField;
  where?: string;
}[] = [
  { result: 'registrants', table: 'registration', column: 'registrant_name', field: 'registration.registrant_name' },
  { result: 'manageTokens', table: 'registration', column: 'manage_token', field: 'registration.manage_token' },
  { result: 'sources', table: 'source', column: 'signing_secret', field: 'source.signing_secret' },
  { result: 'codes', table: 'delivery', column: 'secret', field: 'delivery.secret', where: `purpose = 'verification'` },
  { result: 'outbox', table: 'dev_outbox', column: 'recipient', field: 'dev_outbox.recipient' },
  { result: 'outbox', table: 'dev_outbox', column: 'subject', field: 'dev_outbox.subject' },
  { result: 'outbox', table: 'dev_outbox', column: 'body', field: 'dev_outbox.body' },
  { result: 'escalationNotes', table: 'escalation', column: 'resolution_note', field: 'escalation.resolution_note' },
  { result: 'stopReasons', table: 'registration', column: 'stop_reason', field: 'registration.stop_reason' },
  { result: 'serviceMessages', table: 'notification', column: 'message_sealed', field: 'notification.message_sealed' },
];

/**
 * Seals every secret not yet in the current format under the current key again: values under an
 * older key, and legacy values written before ciphertexts were bound to their rows. Small batches
 * that each commit on their own (walking each table once by id), so the service keeps running.
 * Blind indexes are recomputed with the new key at the same time, and what hangs on a contact's index
 * (its number's STOP, its address's code sends of the day) moves with it. Code sends of an address
 * no contact has any more stay under the old index: without the address they cannot be re-derived,
 * and they age out within the day. Run it with ENCRYPTION_KEY set to the new key and
 * ENCRYPTION_KEYS_PREVIOUS to the old ones, in every process.
 */
export async function rotateEncryptionKey(transaction: Transaction, cipher: FieldCipher): Promise<RotationResult> {
  const result: RotationResult = {
    contacts: 0,
    registrants: 0,
    manageTokens: 0,
    sources: 0,
    codes: 0,
    outbox: 0,
    escalationNotes: 0,
    stopReasons: 0,
    serviceMessages: 0,
    optOuts: 0,
    codeSends: 0,
  };
  const current = `v2.${cipher.currentKeyId}.`;
  let after = FIRST_ID;
  for (;;) {
    const [rows, carried] = await transaction(async (db) => {
      const rows: { id: string; channel: Channel; address: string; addressIndex: Buffer }[] = await db.query(
        `SELECT id, channel, address, address_index AS "addressIndex" FROM contact
         WHERE id > $1 AND address <> '' AND (key_id <> $2 OR NOT starts_with(address, $3)) ORDER BY id LIMIT ${BATCH} FOR UPDATE`,
        [after, cipher.currentKeyId, current],
      );
      const codeSends: { from: Buffer[]; to: Buffer }[] = [];
      for (const row of rows) {
        const sealed = cipher.reencrypt(row.address, 'contact.address', row.id) ?? row.address;
        const address = cipher.decrypt(sealed, 'contact.address', row.id);
        const [index, ...older] = cipher.blindIndexes(indexInput(row.channel, address));
        await db.query(`UPDATE contact SET address = $2, address_index = $3, key_id = $4 WHERE id = $1`, [
          row.id,
          sealed,
          index,
          cipher.currentKeyId,
        ]);
        // A STOP is found by the number's index: carry it over to the new key's index (and keep the number, for the next rotation).
        if (row.channel !== 'email') await carryOptOut(db, cipher, row.addressIndex, address);
        // So are the day's code sends, or the number would get a fresh CODES_PER_NUMBER_PER_DAY.
        codeSends.push({ from: [row.addressIndex, ...older], to: index });
      }
      // In index order, as registrations claim them: a sign-up naming several of these numbers queues instead of deadlocking.
      let carried = 0;
      for (const { from, to } of codeSends.sort((a, b) => Buffer.compare(a.to, b.to))) carried += await foldCodeSends(db, from, to);
      return [rows, carried] as const;
    });
    result.contacts += rows.length;
    result.codeSends += carried;
    if (rows.length < BATCH) break;
    after = rows[rows.length - 1].id;
  }
  result.optOuts = await rotateOptOuts(transaction, cipher);
  for (const column of COLUMNS) result[column.result] += await resealColumn(transaction, cipher, column);
  await transaction((db) => db.query(`UPDATE data_upgrade SET done_at = coalesce(done_at, now()) WHERE name = $1`, [CIPHERTEXT_UPGRADE]));
  return result;
}

/**
 * Run at start right after the migrations, under their advisory lock: the first process of a
 * version that binds ciphertexts to their rows re-encrypts the legacy ones, once. Later starts
 * cost one look-up. Undefined when there was nothing to do.
 */
export async function upgradeCiphertexts(transaction: Transaction, cipher: FieldCipher): Promise<RotationResult | undefined> {
  const pending: unknown[] = await transaction((db) =>
    db.query(`SELECT 1 FROM data_upgrade WHERE name = $1 AND done_at IS NULL`, [CIPHERTEXT_UPGRADE]),
  );
  return pending.length ? rotateEncryptionKey(transaction, cipher) : undefined;
}

/** The STOP recorded under `oldIndex`, if any, recorded under the number's index with the current key too. */
async function carryOptOut(db: Queryable, cipher: FieldCipher, oldIndex: Buffer, phone: string): Promise<void> {
  const index = cipher.blindIndex(indexInput('sms', phone));
  if (index.equals(oldIndex)) return;
  await db.query(
    `INSERT INTO phone_opt_out (address_index, opted_out_at, phone, key_id) SELECT $2, opted_out_at, $3, $4 FROM phone_opt_out WHERE address_index = $1
     ON CONFLICT (address_index) DO UPDATE SET phone = coalesce(phone_opt_out.phone, EXCLUDED.phone), key_id = EXCLUDED.key_id`,
    [oldIndex, index, cipher.encrypt(phone, 'phone_opt_out.phone', index.toString('hex')), cipher.currentKeyId],
  );
}

/**
 * Every STOP that keeps its number is moved to the current key's index, whether or not any contact
 * has that number; the old key's row goes (every contact was moved to the new index before).
 * STOPs recorded before numbers were kept stay as they are: they were carried only through contacts.
 */
async function rotateOptOuts(transaction: Transaction, cipher: FieldCipher): Promise<number> {
  let after: Buffer = Buffer.alloc(0);
  let carried = 0;
  for (;;) {
    const rows = await transaction(async (db) => {
      const rows: { addressIndex: Buffer; phone: string }[] = await db.query(
        `SELECT address_index AS "addressIndex", phone FROM phone_opt_out WHERE address_index > $1 AND phone IS NOT NULL AND key_id IS DISTINCT FROM $2
         ORDER BY address_index LIMIT ${BATCH} FOR UPDATE`,
        [after, cipher.currentKeyId],
      );
      for (const row of rows) {
        const rowId = row.addressIndex.toString('hex');
        const sealed = cipher.reencrypt(row.phone, 'phone_opt_out.phone', rowId) ?? row.phone;
        await carryOptOut(db, cipher, row.addressIndex, cipher.decrypt(sealed, 'phone_opt_out.phone', rowId));
        await db.query(`DELETE FROM phone_opt_out WHERE address_index = $1`, [row.addressIndex]);
      }
      return rows;
    });
    carried += rows.length;
    if (rows.length < BATCH) return carried;
    after = rows[rows.length - 1].addressIndex;
  }
}

/** What `runMigrations` runs after the migrations, under their lock, at start and in `npm run migration:run`. */
export function ciphertextUpgradeStep(cipher: FieldCipher, upgraded: (result: RotationResult) => void = () => undefined) {
  return async (db: DataSource): Promise<void> => {
    const result = await upgradeCiphertexts((work) => db.transaction((tx) => work(tx)), cipher);
    if (result) upgraded(result);
  };
}

async function resealColumn(transaction: Transaction, cipher: FieldCipher, target: (typeof COLUMNS)[number]): Promise<number> {
  const { table, column, field } = target;
  let after = FIRST_ID;
  let resealed = 0;
  for (;;) {
    const rows = await transaction(async (db) => {
      const rows: { id: string; value: string }[] = await db.query(
        `SELECT id, ${column} AS value FROM ${table}
         WHERE id > $1 AND ${column} IS NOT NULL AND ${column} <> '' AND NOT starts_with(${column}, $2) ${target.where ? `AND ${target.where}` : ''}
         ORDER BY id LIMIT ${BATCH} FOR UPDATE`,
        [after, `v2.${cipher.currentKeyId}.`],
      );
      const ids = rows.map((row) => row.id);
      const values = rows.map((row) => cipher.reencrypt(row.value, field, row.id) ?? row.value);
      if (rows.length)
        await db.query(`UPDATE ${table} t SET ${column} = v.value FROM unnest($1::uuid[], $2::text[]) AS v(id, value) WHERE t.id = v.id`, [
          ids,
          values,
        ]);
      return rows;
    });
    resealed += rows.length;
    if (rows.length < BATCH) return resealed;
    after = rows[rows.length - 1].id;
  }
}
