import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legacyEncrypt } from '../support/legacy-cipher.js';
import { FieldCipher } from '../../src/common/crypto/field-cipher.js';
import { runMigrations } from '../../src/database/migrate.js';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { ciphertextUpgradeStep } from '../../src/registrations/key-rotation.js';
import { bookPerson, latestCode, register } from '../support/registrations.js';
import { createSource, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('stored secrets are bound to their row and column', () => {
  let t: TestApp;
  let source: TestSource;
  let personId: string;
  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '10000' } });
    source = await createSource(t);
    personId = await bookPerson(t, source, 'CIPHER-1');
  });
  afterAll(() => t.close());

  const view = (registration: { registrationId: string; manageToken: string }) =>
    t.http().get(`/v1/registrations/${registration.registrationId}`).set('Authorization', `Bearer ${registration.manageToken}`);

  it('#11.17 a contact address copied into another contact’s row does not decrypt: a clean error, and the worker fails only that delivery', async () => {
    const addresses = ['first.copy@example.org', 'second.copy@example.org'];
    const res = await register(t, {
      personId,
      language: 'en',
      contacts: addresses.map((address) => ({ channel: 'email', address })),
    });
    expect(res.status).toBe(201);
    const [first, second] = res.body.contacts as { contactId: string }[];
    await t.db.query(`UPDATE contact SET address = (SELECT address FROM contact WHERE id = $1) WHERE id = $2`, [
      first.contactId,
      second.contactId,
    ]);

    const answer = await view(res.body);
    expect(answer.status).toBe(503);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
    expect(answer.body.code).toBe('STORED_DATA_UNREADABLE');
    expect(answer.text).not.toMatch(/first|f•••|v2\.|v1\.|stack|at \w+ \(/);

    await t.app.get(DispatcherService).drain();
    const { rows } = await t.db.query(
      `SELECT d.contact_id, d.status, a.outcome, a.error_code, a.error_class, a.response_excerpt,
              (SELECT count(*)::int FROM dev_outbox o WHERE o.delivery_id = d.id) AS sent
       FROM delivery d JOIN delivery_attempt a ON a.delivery_id = d.id WHERE d.contact_id = ANY($1::uuid[])`,
      [[first.contactId, second.contactId]],
    );
    const byContact = new Map(rows.map((row) => [row.contact_id, row]));
    expect(byContact.get(first.contactId)).toMatchObject({ status: 'sent', outcome: 'accepted', sent: 1 });
    expect(byContact.get(second.contactId)).toMatchObject({
      status: 'pending',
      outcome: 'transient_error',
      error_code: 'cipher_unauthentic',
      error_class: 'cipher',
      sent: 0,
    });
    const logs = t.logs.join('\n');
    for (const address of addresses) expect(logs).not.toContain(address);
  });

  it('#11.17 legacy values (no associated data) are refused, re-encrypted by the step that runs after the migrations, and still readable', async () => {
    const key = t.config.security.encryptionKey;
    const self = await register(t, { personId, language: 'en', contacts: [{ channel: 'email', address: 'legacy.self@example.org' }] });
    const specialist = await t.staffToken('specialist');
    const enrolled = await t
      .http()
      .post('/v1/enrollments')
      .set('Authorization', `Bearer ${specialist}`)
      .send({ personId, language: 'en', registrantName: 'Legacy Name', contacts: [{ channel: 'sms', address: '+17135550177' }] });
    expect(enrolled.status).toBe(201);
    const contactId = self.body.contacts[0].contactId as string;
    const code = await latestCode(t, contactId);
    const secret = (await t.db.query(`SELECT signing_secret FROM source WHERE id = $1`, [source.sourceId])).rows[0].signing_secret;
    const signingSecret = t.app.get(FieldCipher).decrypt(secret, 'source.signing_secret', source.sourceId);

    // Rewrite them as the previous version stored them.
    await t.db.query(`UPDATE contact SET address = $2 WHERE id = $1`, [contactId, legacyEncrypt(key, 'legacy.self@example.org')]);
    await t.db.query(`UPDATE contact SET address = $2 WHERE id = $1`, [
      enrolled.body.contacts[0].contactId,
      legacyEncrypt(key, '+17135550177'),
    ]);
    await t.db.query(`UPDATE registration SET registrant_name = $2 WHERE id = $1`, [
      enrolled.body.registrationId,
      legacyEncrypt(key, 'Legacy Name'),
    ]);
    await t.db.query(`UPDATE source SET signing_secret = $2 WHERE id = $1`, [source.sourceId, legacyEncrypt(key, signingSecret)]);
    await t.db.query(`UPDATE delivery SET secret = $2 WHERE contact_id = $1 AND purpose = 'verification'`, [
      contactId,
      legacyEncrypt(key, code),
    ]);
    await t.db.query(`UPDATE data_upgrade SET done_at = NULL`);

    expect((await view(self.body)).status).toBe(503);

    await runMigrations(t.config.database.url!, ciphertextUpgradeStep(new FieldCipher(key)));

    const after = await view(self.body);
    expect(after.status).toBe(200);
    expect(after.body.contacts[0].address).toBe('l•••@example.org');
    const staff = await t
      .http()
      .get(`/v1/registrations/${enrolled.body.registrationId}`)
      .set('Authorization', `Bearer ${await t.adminToken()}`);
    expect(staff.body).toMatchObject({ registrantName: 'Legacy Name', contacts: [{ address: '+1•••••0177' }] });
    expect(await latestCode(t, contactId)).toBe(code);
    const reread = (await t.db.query(`SELECT signing_secret FROM source WHERE id = $1`, [source.sourceId])).rows[0].signing_secret;
    expect(t.app.get(FieldCipher).decrypt(reread, 'source.signing_secret', source.sourceId)).toBe(signingSecret);
    const { rows } = await t.db.query(`
      SELECT address AS value FROM contact UNION ALL SELECT registrant_name FROM registration WHERE registrant_name IS NOT NULL
      UNION ALL SELECT signing_secret FROM source UNION ALL SELECT secret FROM delivery WHERE secret IS NOT NULL`);
    expect(rows.filter((row) => !row.value.startsWith('v2.'))).toEqual([]);
    expect((await t.db.query(`SELECT done_at FROM data_upgrade WHERE name = 'ciphertexts-v2'`)).rows[0].done_at).not.toBeNull();
  });
});
