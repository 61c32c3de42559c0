import { FieldCipher } from '../../src/common/crypto/field-cipher.js';
import { event, personWith, postEvents, type TestSource } from './sources.js';
import type { TestApp } from './test-app.js';

/** Books a searchable adult through the real ingestion API and returns their person id. */
export async function bookPerson(t: TestApp, source: TestSource, identifier: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await postEvents(t, source, event({ person: personWith(identifier, extra) }));
  if (res.status !== 202) throw new Error(`booking answered ${res.status}: ${res.text}`);
  const { rows } = await t.db.query(`SELECT person_id FROM custody_event WHERE id = $1`, [res.body.results[0].eventId]);
  return rows[0].person_id as string;
}

/**
 * The newest verification code queued for a contact, read the way the dispatcher reads it: from
 * the delivery row, decrypted with the app's key.
 */
export async function latestCode(t: TestApp, contactId: string): Promise<string> {
  const { rows } = await t.db.query(
    `SELECT id, secret FROM delivery WHERE contact_id = $1 AND purpose = 'verification' ORDER BY created_at DESC, id DESC LIMIT 1`,
    [contactId],
  );
  if (!rows[0]?.secret) throw new Error('no verification code queued');
  return t.app.get(FieldCipher).decrypt(rows[0].secret as string, 'delivery.secret', rows[0].id as string);
}

export function register(t: TestApp, body: Record<string, unknown>) {
  return t.http().post('/v1/registrations').send(body);
}
