import type { FieldCipher } from '../common/crypto/field-cipher.js';
import type { Queryable } from '../database/queryable.js';
import type { Channel } from './contact-address.js';
import { indexInput } from './contact-address.js';

const BATCH = 500;

export interface RotationResult {
  contacts: number;
  registrants: number;
  sources: number;
}

/**
 * Re-encrypts every secret still under an older key with the cipher's current key, in small
 * batches that each commit on their own, so the service keeps running throughout. Blind indexes
 * are recomputed with the new key at the same time. Run it with ENCRYPTION_KEY set to the new key
 * and ENCRYPTION_KEYS_PREVIOUS to the old ones, in every process.
 */
export async function rotateEncryptionKey(
  transaction: <T>(work: (db: Queryable) => Promise<T>) => Promise<T>,
  cipher: FieldCipher,
): Promise<RotationResult> {
  const result: RotationResult = { contacts: 0, registrants: 0, sources: 0 };
  for (;;) {
    const done = await transaction(async (db) => {
      const rows: { id: string; channel: Channel; address: string; address_index: Buffer }[] = await db.query(
        `SELECT id, channel, address, address_index FROM contact WHERE key_id <> $1 ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
        [cipher.currentKeyId],
      );
      for (const row of rows) {
        const address = cipher.decrypt(row.address);
        const index = cipher.blindIndex(indexInput(row.channel, address));
        await db.query(`UPDATE contact SET address = $2, address_index = $3, key_id = $4 WHERE id = $1`, [
          row.id,
          cipher.encrypt(address),
          index,
          cipher.currentKeyId,
        ]);
        // A STOP is known only by the number's index: carry it over to the new key's index.
        await db.query(
          `INSERT INTO phone_opt_out (address_index, opted_out_at) SELECT $2, opted_out_at FROM phone_opt_out WHERE address_index = $1
           ON CONFLICT (address_index) DO NOTHING`,
          [row.address_index, index],
        );
      }
      result.contacts += rows.length;
      return rows.length < BATCH;
    });
    if (done) break;
  }
  await transaction(async (db) => {
    const registrants: { id: string; registrant_name: string }[] = await db.query(
      `SELECT id, registrant_name FROM registration WHERE registrant_name IS NOT NULL AND split_part(registrant_name, '.', 2) <> $1 FOR UPDATE`,
      [cipher.currentKeyId],
    );
    for (const row of registrants) {
      await db.query(`UPDATE registration SET registrant_name = $2 WHERE id = $1`, [
        row.id,
        cipher.encrypt(cipher.decrypt(row.registrant_name)),
      ]);
    }
    const sources: { id: string; signing_secret: string }[] = await db.query(
      `SELECT id, signing_secret FROM source WHERE split_part(signing_secret, '.', 2) <> $1 FOR UPDATE`,
      [cipher.currentKeyId],
    );
    for (const row of sources) {
      await db.query(`UPDATE source SET signing_secret = $2 WHERE id = $1`, [row.id, cipher.encrypt(cipher.decrypt(row.signing_secret))]);
    }
    result.registrants = registrants.length;
    result.sources = sources.length;
  });
  return result;
}
