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

export interface EveryChannel {
  email: string;
  sms: string;
  voice: string;
}

/** A specialist's enrolment (contacts attested) with an email, an SMS and a voice contact, PIN 2468. */
export async function enrolEveryChannel(
  t: TestApp,
  specialistToken: string,
  personId: string,
  contacts: EveryChannel,
  body: Record<string, unknown> = {},
): Promise<{ registrationId: string; manageToken: string }> {
  const res = await t
    .http()
    .post('/v1/enrollments')
    .set('Authorization', `Bearer ${specialistToken}`)
    .send({
      personId,
      language: 'en',
      pin: '2468',
      contacts: [
        { channel: 'email', address: contacts.email },
        { channel: 'sms', address: contacts.sms },
        { channel: 'voice', address: contacts.voice },
      ],
      ...body,
    });
  if (res.status !== 201) throw new Error(`enrolment answered ${res.status}: ${res.text}`);
  return res.body as { registrationId: string; manageToken: string };
}

/** How many verification messages were queued per channel for these registrations. */
export async function verificationsByChannel(t: TestApp, registrationIds: string[]): Promise<{ channel: string; n: number }[]> {
  const { rows } = await t.db.query(
    `SELECT c.channel, count(*)::int AS n FROM delivery d JOIN contact c ON c.id = d.contact_id
     WHERE d.purpose = 'verification' AND c.registration_id = ANY($1::uuid[]) GROUP BY c.channel ORDER BY c.channel`,
    [registrationIds],
  );
  return rows as { channel: string; n: number }[];
}
