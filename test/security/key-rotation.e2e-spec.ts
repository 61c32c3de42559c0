import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/common/crypto/field-cipher.js';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { StaffAlertsService } from '../../src/delivery/staff-alerts.service.js';
import { openMessage, VictimMessagesService } from '../../src/delivery/victim-messages.service.js';
import { indexInput } from '../../src/registrations/contact-address.js';
import { rotateEncryptionKey } from '../../src/registrations/key-rotation.js';
import { OptOutService } from '../../src/registrations/opt-out.service.js';
import { RegistrationsService } from '../../src/registrations/registrations.service.js';
import { ManualClock } from '../support/manual-clock.js';
import { bookPerson, latestCode, register, verificationsByChannel } from '../support/registrations.js';
import { enrol } from '../support/roster-people.js';
import { createSource, event, personWith, postEvents } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

interface Created {
  registrationId: string;
  manageToken: string;
  contacts: { contactId: string }[];
}

describe('what was sent before a key rotation', () => {
  // Each test rotates the key of a database of its own.
  let t: TestApp;
  let personId: string;
  const env = { PUBLIC_RATE_LIMIT_PER_MINUTE: '10000', SIGNUP_RATE_LIMIT_PER_MINUTE: '10000' };
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

  it('#11.13 the codes-per-number limit holds across a key rotation: while both keys are known, and after rotateEncryptionKey', async () => {
    const limit = t.config.codesPerNumberPerDay;
    // One number asks again while both keys are known; the other is next heard of after the rotation.
    const askedDuring = '+17135550410';
    const askedAfter = '+17135550411';
    const signUp = (app: TestApp, number: string) =>
      register(app, { personId, language: 'en', contacts: [{ channel: 'sms', address: number }] });
    const codesFor = async (registrationId: string) => {
      const { rows } = await t.db.query(
        `SELECT count(*)::int AS n FROM delivery d JOIN contact c ON c.id = d.contact_id WHERE d.purpose = 'verification' AND c.registration_id = $1`,
        [registrationId],
      );
      return rows[0].n as number;
    };
    /** A new registration for the number answers as always and sends nothing; asking for a code again is refused. */
    const expectPaused = async (app: TestApp, number: string) => {
      const res = await signUp(app, number);
      expect(res.status).toBe(201);
      expect(await codesFor(res.body.registrationId as string), number).toBe(0);
      const contactPath = `/v1/registrations/${res.body.registrationId}/contacts/${res.body.contacts[0].contactId}`;
      const resend = await app.http().post(`${contactPath}/resend-code`);
      expect(resend.status, number).toBe(429);
      expect(resend.body.code).toBe('CODES_PAUSED');
      expect(Number(resend.headers['retry-after'])).toBeGreaterThan(0);
      await expectViewPaused(app, res.body as Created, number);
    };
    const expectViewPaused = async (app: TestApp, created: Created, number: string) => {
      const view = await app
        .http()
        .get(`/v1/registrations/${created.registrationId}`)
        .set('Authorization', `Bearer ${created.manageToken}`);
      expect(view.body.contacts[0].codesPausedUntil, number).not.toBeNull();
    };

    const firstUnderOldKey = new Map<string, Created>();
    for (const number of [askedDuring, askedAfter]) {
      for (let i = 0; i < limit; i++) {
        const res = await signUp(t, number);
        expect(res.status).toBe(201);
        expect(await codesFor(res.body.registrationId as string)).toBe(1);
        if (!firstUnderOldKey.has(number)) firstUnderOldKey.set(number, res.body as Created);
      }
    }
    await expectPaused(t, askedDuring);

    const newKey = randomBytes(32).toString('base64');
    const rotating = await restartWith(newKey, oldKey());
    try {
      await expectPaused(rotating, askedDuring);
      // The manage view counts a number's sends under either key's index, whichever its contact is under.
      for (const number of [askedDuring, askedAfter]) await expectViewPaused(rotating, firstUnderOldKey.get(number)!, number);
      await rotateEncryptionKey((work) => rotating.app.get(DataSource).transaction((tx) => work(tx)), rotating.app.get(FieldCipher));
    } finally {
      await rotating.close();
    }

    const after = await restartWith(newKey);
    try {
      await expectPaused(after, askedDuring);
      await expectPaused(after, askedAfter);
      // Every send of the day is under the new key's index, once; the old key's rows are gone.
      const cipher = after.app.get(FieldCipher);
      const { rows } = await t.db.query(`SELECT address_index, cardinality(sent_at)::int AS n FROM code_send ORDER BY address_index`);
      const expected = [askedDuring, askedAfter]
        .map((number) => ({ address_index: cipher.blindIndex(indexInput('sms', number)), n: limit }))
        .sort((a, b) => Buffer.compare(a.address_index, b.address_index));
      expect(rows).toEqual(expected);
    } finally {
      await after.close();
    }
  });

  it('#11.13 sign-ups at once on two processes while the rotation runs do not slip past the limit, nor deadlock', async () => {
    const limit = t.config.codesPerNumberPerDay;
    const sms = { channel: 'sms', address: '+17135550412' };
    const email = { channel: 'email', address: 'rotating.limit@example.org' };
    const ids: string[] = [];
    for (let i = 0; i < limit - 2; i++) {
      const res = await register(t, { personId, language: 'en', contacts: [sms, email] });
      expect(res.status).toBe(201);
      ids.push(res.body.registrationId as string);
    }
    const newKey = randomBytes(32).toString('base64');
    const [one, two] = await Promise.all([restartWith(newKey, oldKey()), restartWith(newKey, oldKey())]);
    try {
      // Both address orders, so that sign-ups (and the rotation) meet the two destinations in opposite orders.
      const [rotated, ...racing] = await Promise.all([
        rotateEncryptionKey((work) => one.app.get(DataSource).transaction((tx) => work(tx)), one.app.get(FieldCipher)),
        ...Array.from({ length: 8 }, (_, i) =>
          register(i % 2 ? one : two, { personId, language: 'en', contacts: i % 4 < 2 ? [sms, email] : [email, sms] }),
        ),
      ]);
      expect(rotated.contacts).toBe(2 * (limit - 2));
      expect(racing.map((res) => res.status)).toEqual(Array(8).fill(201));
      ids.push(...racing.map((res) => res.body.registrationId as string));
      expect(await verificationsByChannel(t, ids)).toEqual([
        { channel: 'email', n: limit },
        { channel: 'sms', n: limit },
      ]);
      const { rows: sends } = await t.db.query(`SELECT cardinality(sent_at)::int AS n FROM code_send`);
      expect(sends).toEqual([{ n: limit }, { n: limit }]);
    } finally {
      await Promise.all([one.close(), two.close()]);
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
  it('#14 a stop reason and a shared service’s copy are sealed again by a rotation and read with the new key alone', async () => {
    const reason = 'Victim asked by phone to stop all alerts';
    const registrationId = await enrol(t, await t.staffToken('specialist'), personId, 'rotate-stop@example.org');
    await t.adminToken();
    const { rows: admins } = await t.db.query(`SELECT id AS "staffId", email, role FROM staff WHERE role = 'admin' LIMIT 1`);
    const service = { name: 'Visa Relief Clinic', kind: 'immigration_relief' as const, phone: '+18005550199' };
    const shared = await t.app.get(VictimMessagesService).send(registrationId, { kind: 'service', service }, { staff: admins[0] });
    await t.app.get(RegistrationsService).stop(registrationId, { kind: 'staff', staff: admins[0] }, reason);
    const newKey = randomBytes(32).toString('base64');
    const rotating = await restartWith(newKey, oldKey());
    try {
      const result = await rotateEncryptionKey(
        (work) => rotating.app.get(DataSource).transaction((tx) => work(tx)),
        rotating.app.get(FieldCipher),
      );
      expect(result.stopReasons).toBe(1);
      expect(result.serviceMessages).toBe(1);
    } finally {
      await rotating.close();
    }
    const after = await restartWith(newKey);
    try {
      expect((await after.app.get(RegistrationsService).stopRecord(registrationId))?.reason).toBe(reason);
      const { rows } = await after.db.query(`SELECT message, message_sealed AS "messageSealed" FROM notification WHERE id = $1`, [
        shared!.notificationId,
      ]);
      expect(openMessage(after.app.get(FieldCipher), shared!.notificationId, rows[0])?.service).toEqual(service);
    } finally {
      await after.close();
    }
  });

  // Last in the file: its manual clock becomes the "now" later event helpers would stamp with.
  it('#14 an escalation’s resolution note is sealed again by a rotation and read with the new key alone', async () => {
    const clock = new ManualClock(new Date());
    const sameKeys = { ...env, JWT_SECRET: t.config.security.jwtSecret, ENCRYPTION_KEY: oldKey() };
    const clocked = await startTestApp({ databaseUrl: t.config.database.url, env: sameKeys, clock });
    const note = 'Reached her at her mother’s; she knows.';
    try {
      const specialist = await clocked.staffToken('specialist');
      const source = await createSource(clocked);
      await enrol(clocked, specialist, await bookPerson(clocked, source, 'ROTATE-ESC-1'), 'rotate-escalation@example.org');
      expect((await postEvents(clocked, source, event({ type: 'RELEASED', person: personWith('ROTATE-ESC-1') }))).status).toBe(202);
      await clocked.app.get(DispatcherService).drain();
      clock.advance(31 * 60_000);
      expect(await clocked.app.get(StaffAlertsService).escalate()).toBe(1);
      const [open] = (await clocked.http().get('/v1/escalations').set('Authorization', `Bearer ${specialist}`)).body.escalations;
      const resolved = await clocked
        .http()
        .post(`/v1/escalations/${open.escalationId}/resolve`)
        .set('Authorization', `Bearer ${specialist}`)
        .send({ note });
      expect(resolved.status, resolved.text).toBe(200);
    } finally {
      await clocked.close();
    }
    const newKey = randomBytes(32).toString('base64');
    const rotating = await restartWith(newKey, oldKey());
    try {
      const result = await rotateEncryptionKey(
        (work) => rotating.app.get(DataSource).transaction((tx) => work(tx)),
        rotating.app.get(FieldCipher),
      );
      expect(result.escalationNotes).toBe(1);
    } finally {
      await rotating.close();
    }
    const after = await restartWith(newKey);
    try {
      const list = await after
        .http()
        .get('/v1/escalations?status=resolved')
        .set('Authorization', `Bearer ${await after.adminToken()}`);
      expect(list.status, list.text).toBe(200);
      expect(list.body.escalations.map((e: { resolutionNote: string }) => e.resolutionNote)).toEqual([note]);
    } finally {
      await after.close();
    }
  });
});
