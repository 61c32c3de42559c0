import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/common/crypto/field-cipher.js';
import { indexInput } from '../../src/registrations/contact-address.js';
import { rotateEncryptionKey } from '../../src/registrations/key-rotation.js';
import { OptOutService } from '../../src/registrations/opt-out.service.js';
import { bookPerson, latestCode, register } from '../support/registrations.js';
import { createSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('what was sent before a key rotation', () => {
  // Each test rotates the key of a database of its own.
  let t: TestApp;
  let personId: string;
  const env = { PUBLIC_RATE_LIMIT_PER_MINUTE: '10000' };
  beforeEach(async () => {
    t = await startTestApp({ env });
    personId = await bookPerson(t, await createSource(t), 'ROTATE-1');
  });
  afterEach(() => t.close());

  /** Another process on the same database, as during and after a rotation. */
  const restartWith = (key: string, previous?: string) =>
    startTestApp({
      databaseUrl: t.config.database.url,
      env: {
        ...env,
        JWT_SECRET: t.config.security.jwtSecret,
        ENCRYPTION_KEY: key,
        ...(previous ? { ENCRYPTION_KEYS_PREVIOUS: previous } : {}),
      },
    });
  const oldKey = () => t.config.security.encryptionKey.toString('base64');

  it('#11.15 unsubscribe links and verification codes sent before a rotation keep working', async () => {
    const res = await register(t, {
      personId,
      language: 'en',
      contacts: [
        { channel: 'email', address: 'code.before@example.org' },
        { channel: 'email', address: 'link.before@example.org' },
      ],
    });
    const [coded, linked] = res.body.contacts as { contactId: string }[];
    const code = await latestCode(t, coded.contactId);
    const token = t.app.get(OptOutService).unsubscribeToken(linked.contactId);

    const rotated = await restartWith(randomBytes(32).toString('base64'), oldKey());
    try {
      await rotateEncryptionKey((work) => rotated.app.get(DataSource).transaction((tx) => work(tx)), rotated.app.get(FieldCipher));
      const verify = await rotated
        .http()
        .post(`/v1/registrations/${res.body.registrationId}/contacts/${coded.contactId}/verify`)
        .send({ code });
      expect(verify.status).toBe(200);
      expect((await rotated.http().get(`/v1/unsubscribe/${linked.contactId}?token=${token}`)).status).toBe(200);
      const unsubscribe = await rotated
        .http()
        .post(`/v1/unsubscribe/${linked.contactId}?token=${token}`)
        .type('form')
        .send({ 'List-Unsubscribe': 'One-Click' });
      expect(unsubscribe.status).toBe(200);
      // A token made under the new key works too, and a wrong one still does not.
      const fresh = rotated.app.get(OptOutService).unsubscribeToken(linked.contactId);
      expect(fresh).not.toBe(token);
      expect((await rotated.http().get(`/v1/unsubscribe/${linked.contactId}?token=${fresh}`)).status).toBe(200);
      expect((await rotated.http().get(`/v1/unsubscribe/${linked.contactId}?token=${token.slice(0, -2)}AA`)).status).toBe(404);
    } finally {
      await rotated.close();
    }
  });

  it('#11.15 a STOP from a number that has no contact is carried across a rotation', async () => {
    const number = '+17135550199';
    await t.app.get(OptOutService).smsKeyword(number, 'STOP');
    const newKey = randomBytes(32).toString('base64');
    const rotating = await restartWith(newKey, oldKey());
    try {
      await rotateEncryptionKey((work) => rotating.app.get(DataSource).transaction((tx) => work(tx)), rotating.app.get(FieldCipher));
    } finally {
      await rotating.close();
    }
    // The old key is gone: the number registers now, and must still get no SMS.
    const after = await restartWith(newKey);
    try {
      const res = await register(after, { personId, language: 'en', contacts: [{ channel: 'sms', address: number }] });
      expect(res.status).toBe(201);
      // Its STOP is found under the new key's blind index (a registration shows it only once verified, #11.8).
      const index = after.app.get(FieldCipher).blindIndex(indexInput('sms', number));
      const carried = await t.db.query(`SELECT 1 FROM phone_opt_out WHERE address_index = $1`, [index]);
      expect(carried.rows).toHaveLength(1);
      const stored = await t.db.query(`SELECT phone FROM phone_opt_out`);
      expect(JSON.stringify(stored.rows)).not.toContain('5550199');
    } finally {
      await after.close();
    }
  });

  it('#11.15 an unsubscribe link expires with its registration', async () => {
    const res = await register(t, { personId, language: 'en', contacts: [{ channel: 'email', address: 'ended@example.org' }] });
    const contactId = res.body.contacts[0].contactId as string;
    const token = t.app.get(OptOutService).unsubscribeToken(contactId);
    expect((await t.http().get(`/v1/unsubscribe/${contactId}?token=${token}`)).status).toBe(200);
    const stop = await t
      .http()
      .delete(`/v1/registrations/${res.body.registrationId}`)
      .set('Authorization', `Bearer ${res.body.manageToken}`);
    expect(stop.status).toBe(204);
    expect((await t.http().get(`/v1/unsubscribe/${contactId}?token=${token}`)).status).toBe(404);
    expect(
      (await t.http().post(`/v1/unsubscribe/${contactId}?token=${token}`).type('form').send({ 'List-Unsubscribe': 'One-Click' })).status,
    ).toBe(404);
  });
});
