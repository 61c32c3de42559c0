import 'reflect-metadata';
import { FieldCipher } from '../common/crypto/field-cipher.js';
import { loadConfig } from '../config/app-config.js';
import { loadEnvFile } from '../config/env-file.js';
import { withDataSource } from '../database/cli-database.js';
import { rotateEncryptionKey } from './key-rotation.js';

/**
 * `npm run keys:rotate`: re-encrypts everything under ENCRYPTION_KEY, reading older rows with
 * ENCRYPTION_KEYS_PREVIOUS. Safe while Vigil runs (it works in small committed batches).
 */
async function main(): Promise<void> {
  loadEnvFile();
  const config = loadConfig();
  if (!config.security.previousEncryptionKeys.length) {
    console.log('ENCRYPTION_KEYS_PREVIOUS is empty: rows under keys not listed there cannot be read.');
  }
  await withDataSource(config, async (db) => {
    const cipher = new FieldCipher(config.security.encryptionKey, config.security.previousEncryptionKeys);
    const result = await rotateEncryptionKey((work) => db.transaction((tx) => work(tx)), cipher);
    console.log(
      `Re-encrypted ${result.contacts} contacts, ${result.registrants} registrant names, ${result.sources} source secrets, ` +
        `${result.codes} verification codes, ${result.escalationNotes} escalation notes, ${result.stopReasons} stop reasons, ${result.serviceMessages} shared services and ${result.outbox} dev outbox values under key ${cipher.currentKeyId}; ` +
        `carried ${result.optOuts} STOPs and ${result.codeSends} numbers' code sends of the day to its index.`,
    );
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
