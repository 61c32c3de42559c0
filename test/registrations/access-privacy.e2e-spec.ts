import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/common/crypto/field-cipher.js';
import { rotateEncryptionKey } from '../../src/registrations/key-rotation.js';
import { OptOutService } from '../../src/registrations/opt-out.service.js';
import { bookPerson, latestCode, register } from '../support/registrations.js';
import { createSource, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const TWILIO_TOKEN = 'twilio-auth-token-for-tests';
const PUBLIC_BASE_URL = 'https://vigil.test';
const ADDRESSES = ['private.victim@example.org', '+17135550142', '+17135550143'];
const PIN = '8642';

describe('who may see a registration, and what is stored', () => {
  let t: TestApp;
  let source: TestSource;
  let personId: string;
  let specialistA: string;
  let specialistB: string;
  let admin: string;
  let enrolled: { registrationId: string; manageToken: string; contacts: { contactId: string }[] };
  let selfRegistered: { registrationId: string; manageToken: string; contacts: { contactId: string; channel: string }[] };
  const env = {
    PUBLIC_RATE_LIMIT_PER_MINUTE: '10000',
    TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
    TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    TWILIO_FROM_NUMBER: '+15005550006',
    PUBLIC_BASE_URL,
  };

  beforeAll(async () => {
    t = await startTestApp({ env });
    source = await createSource(t);
    personId = await bookPerson(t, source, 'PRIV-1');
    admin = await t.adminToken();
    specialistA = await t.staffToken('specialist');
    specialistB = await t.staffToken('specialist');
    const enrolment = await t
      .http()
      .post('/v1/enrollments')
      .set('Authorization', `Bearer ${specialistA}`)
      .send({
        personId,
        language: 'en',
        pin: PIN,
        registrantName: 'Maria Victim',
        contacts: [
          { channel: 'email', address: ADDRESSES[0] },
          { channel: 'voice', address: ADDRESSES[2] },
        ],
      });
    expect(enrolment.status).toBe(201);
    enrolled = enrolment.body;
    const self = await register(t, {
      personId,
      language: 'es',
      contacts: [
        { channel: 'sms', address: ADDRESSES[1] },
        { channel: 'email', address: ADDRESSES[0] },
      ],
    });
    expect(self.status).toBe(201);
    selfRegistered = self.body;
  });
  afterAll(() => t.close());

  it('an enrolment is active at once, its contacts attested, enrolledBy kept, and nothing was sent to verify', async () => {
    expect(enrolled).toMatchObject({ status: 'active', contacts: [{ verified: true }, { verified: true }] });
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS n FROM delivery d JOIN contact c ON c.id = d.contact_id WHERE c.registration_id = $1`,
      [enrolled.registrationId],
    );
    expect(rows[0].n).toBe(0);
    const view = await t.http().get(`/v1/registrations/${enrolled.registrationId}`).set('Authorization', `Bearer ${specialistA}`);
    expect(view.body).toMatchObject({ status: 'active', registrantName: 'Maria Victim', enrolledBy: expect.any(String) });
  });

  it('authorization matrix', async () => {
    const sourceKey = `Bearer ${source.apiKey}`;
    const otherToken = `Bearer ${selfRegistered.manageToken}`;
    const cases: [string, string | undefined, number][] = [
      ['none', undefined, 401],
      ['another registration’s manage token', otherToken, 404],
      ['a source key', sourceKey, 404],
      ['the specialist who enrolled', `Bearer ${specialistA}`, 200],
      ['another specialist', `Bearer ${specialistB}`, 404],
      ['an admin', `Bearer ${admin}`, 200],
      ['its own manage token', `Bearer ${enrolled.manageToken}`, 200],
    ];
    for (const [who, auth, expected] of cases) {
      for (const method of ['get', 'patch'] as const) {
        const req = t.http()[method](`/v1/registrations/${enrolled.registrationId}`);
        if (auth) req.set('Authorization', auth);
        const res = method === 'patch' ? await req.send({ language: 'en' }) : await req;
        expect(res.status, `${method.toUpperCase()} by ${who}`).toBe(expected);
      }
    }
    // A self-registration is not any specialist's.
    expect(
      (await t.http().get(`/v1/registrations/${selfRegistered.registrationId}`).set('Authorization', `Bearer ${specialistA}`)).status,
    ).toBe(404);
    expect(
      (await t.http().get(`/v1/registrations/00000000-0000-4000-8000-000000000000`).set('Authorization', `Bearer ${admin}`)).status,
    ).toBe(404);
    expect((await t.http().get(`/v1/registrations/00000000-0000-4000-8000-000000000000`).set('Authorization', otherToken)).status).toBe(
      404,
    );

    const enrol = (auth?: string) => {
      const req = t.http().post('/v1/enrollments');
      if (auth) req.set('Authorization', auth);
      return req.send({ personId, language: 'en', contacts: [{ channel: 'email', address: 'x@example.org' }] });
    };
    expect((await enrol()).status).toBe(401);
    expect((await enrol(sourceKey)).status).toBe(401);
    expect((await enrol(otherToken)).status).toBe(401);
    expect((await enrol(`Bearer ${specialistB}`)).status).toBe(201);
    expect((await enrol(`Bearer ${admin}`)).status).toBe(201);

    const listA = await t.http().get('/v1/enrollments').set('Authorization', `Bearer ${specialistA}`);
    const listB = await t.http().get('/v1/enrollments').set('Authorization', `Bearer ${specialistB}`);
    const listAdmin = await t.http().get('/v1/enrollments').set('Authorization', `Bearer ${admin}`);
    const ids = (res: { body: { enrollments: { registrationId: string }[] } }) => res.body.enrollments.map((e) => e.registrationId);
    expect(ids(listA)).toEqual([enrolled.registrationId]);
    expect(ids(listB)).not.toContain(enrolled.registrationId);
    expect(ids(listAdmin)).toEqual(expect.arrayContaining([enrolled.registrationId, ...ids(listB)]));
    expect((await t.http().get('/v1/enrollments').set('Authorization', otherToken)).status).toBe(401);

    expect((await t.http().get('/v1/admin/audit').set('Authorization', `Bearer ${specialistA}`)).status).toBe(403);
    expect((await t.http().get('/v1/admin/audit').set('Authorization', otherToken)).status).toBe(401);
    expect(
      (await t.http().delete(`/v1/registrations/${enrolled.registrationId}`).set('Authorization', `Bearer ${specialistB}`)).status,
    ).toBe(404);
  });

  it('every staff read or change of a victim’s data is audited, and the audit log cannot be edited', async () => {
    await t
      .http()
      .get(`/v1/registrations/${enrolled.registrationId}`)
      .set('Authorization', `Bearer ${admin}`)
      .set('X-Forwarded-For', '203.0.113.9');
    const audit = await t.http().get('/v1/admin/audit?limit=1000').set('Authorization', `Bearer ${admin}`);
    expect(audit.status).toBe(200);
    const actions = audit.body.entries
      .filter((e: { targetId: string }) => e.targetId === enrolled.registrationId)
      .map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['enrollment.create', 'registration.view', 'registration.update']));
    const entry = audit.body.entries.find((e: { action: string }) => e.action === 'registration.view');
    expect(entry).toMatchObject({
      actorStaffId: expect.any(String),
      actorRole: expect.any(String),
      targetType: 'registration',
      clientAddress: expect.any(String),
    });
    await expect(t.db.query(`UPDATE audit_log SET action = 'nothing'`)).rejects.toThrow(/append-only/);
    await expect(t.db.query(`DELETE FROM audit_log`)).rejects.toThrow(/append-only/);
  });

  it('a staff member reading a registration’s ledger through the API is audited; the victim reading their own is not', async () => {
    const reads = async () =>
      (
        await t.db.query(
          `SELECT actor_staff_id IS NOT NULL AS staff FROM audit_log WHERE action = 'registration.notifications.view' AND target_id = $1`,
          [enrolled.registrationId],
        )
      ).rows as { staff: boolean }[];
    const before = (await reads()).length;
    const bySpecialist = await t
      .http()
      .get(`/v1/registrations/${enrolled.registrationId}/notifications`)
      .set('Authorization', `Bearer ${specialistA}`);
    expect(bySpecialist.status).toBe(200);
    const byVictim = await t
      .http()
      .get(`/v1/registrations/${enrolled.registrationId}/notifications`)
      .set('Authorization', `Bearer ${enrolled.manageToken}`);
    expect(byVictim.status).toBe(200);
    const after = await reads();
    expect(after.length - before).toBe(1);
    expect(after.every((row) => row.staff)).toBe(true);
    // Another specialist's refused read changes nothing in the log.
    const refused = await t
      .http()
      .get(`/v1/registrations/${enrolled.registrationId}/notifications`)
      .set('Authorization', `Bearer ${specialistB}`);
    expect(refused.status).toBe(404);
    expect((await reads()).length).toBe(after.length);
  });

  it('reading the audit log through the API is itself recorded, as reading it in the console is', async () => {
    const reads = async () =>
      Number((await t.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'audit.read' AND actor_role = 'admin'`)).rows[0].n);
    const before = await reads();
    const res = await t.http().get('/v1/admin/audit?limit=5').set('Authorization', `Bearer ${admin}`);
    expect(res.status).toBe(200);
    expect(await reads()).toBe(before + 1);
    const { rows } = await t.db.query(`SELECT target_type, details FROM audit_log WHERE action = 'audit.read' ORDER BY at DESC LIMIT 1`);
    expect(rows[0]).toEqual({ target_type: 'audit_log', details: { since: null, limit: 5, entries: 5 } });
    // A refused read is not one.
    expect((await t.http().get('/v1/admin/audit').set('Authorization', `Bearer ${specialistA}`)).status).toBe(403);
    expect(await reads()).toBe(before + 1);
  });

  it('STOP opts a number out of SMS for every registration, START undoes it, HELP answers; forged requests are refused', async () => {
    const path = '/v1/webhooks/twilio/sms-inbound';
    const send = (params: Record<string, string>, signature?: string) =>
      t
        .http()
        .post(path)
        .type('form')
        .set('X-Twilio-Signature', signature ?? twilio.getExpectedTwilioSignature(TWILIO_TOKEN, `${PUBLIC_BASE_URL}${path}`, params))
        .send(params);
    const second = await register(t, { personId, language: 'en', contacts: [{ channel: 'sms', address: '713-555-0142' }] });
    // A contact's opt-out shows only once it is verified (#11.8).
    for (const registration of [selfRegistered, second.body as typeof selfRegistered]) {
      const sms = registration.contacts[0].contactId;
      const code = await latestCode(t, sms);
      const verified = await t.http().post(`/v1/registrations/${registration.registrationId}/contacts/${sms}/verify`).send({ code });
      expect(verified.status).toBe(200);
    }
    const optedOut = async (registration: { registrationId: string; manageToken: string }) =>
      (await t.http().get(`/v1/registrations/${registration.registrationId}`).set('Authorization', `Bearer ${registration.manageToken}`))
        .body.contacts[0].optedOut;

    const forged = await send({ From: ADDRESSES[1], Body: 'STOP' }, 'bm90IGEgc2lnbmF0dXJl');
    expect(forged.status).toBe(401);
    expect(await optedOut(selfRegistered)).toBe(false);

    const stop = await send({ From: ADDRESSES[1], Body: 'stop' });
    expect(stop.status).toBe(200);
    expect(stop.headers['content-type']).toMatch(/xml/);
    expect(await optedOut(selfRegistered)).toBe(true);
    expect(await optedOut(second.body)).toBe(true);
    const { rows } = await t.db.query(
      `SELECT DISTINCT d.status FROM delivery d JOIN contact c ON c.id = d.contact_id WHERE c.registration_id = $1 AND d.channel = 'sms'`,
      [second.body.registrationId],
    );
    expect(rows).toEqual([{ status: 'suppressed' }]);

    const help = await send({ From: ADDRESSES[1], Body: 'HELP' });
    expect(help.text).toContain('911');
    expect(help.text).toContain('<Message>');

    expect((await send({ From: ADDRESSES[1], Body: 'START' })).status).toBe(200);
    expect(await optedOut(selfRegistered)).toBe(false);
  });

  it('one-click unsubscribe for email, with a link only Vigil can make', async () => {
    const email = selfRegistered.contacts.find((c) => c.channel === 'email')!;
    const code = await latestCode(t, email.contactId);
    expect(
      (await t.http().post(`/v1/registrations/${selfRegistered.registrationId}/contacts/${email.contactId}/verify`).send({ code })).status,
    ).toBe(200);
    const token = t.app.get(OptOutService).unsubscribeToken(email.contactId);
    expect(
      (await t.http().post(`/v1/unsubscribe/${email.contactId}?token=wrong`).type('form').send({ 'List-Unsubscribe': 'One-Click' })).status,
    ).toBe(404);
    const page = await t.http().get(`/v1/unsubscribe/${email.contactId}?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<form method="post"');
    const res = await t
      .http()
      .post(`/v1/unsubscribe/${email.contactId}?token=${token}`)
      .type('form')
      .send({ 'List-Unsubscribe': 'One-Click' });
    expect(res.status).toBe(200);
    const view = await t
      .http()
      .get(`/v1/registrations/${selfRegistered.registrationId}`)
      .set('Authorization', `Bearer ${selfRegistered.manageToken}`);
    expect(view.body.contacts.find((c: { contactId: string }) => c.contactId === email.contactId).optedOut).toBe(true);
  });

  it('#13 the unsubscribe page is a victim page: the quick exit first, no-store, no-referrer; its button answers a page, not JSON', async () => {
    const email = selfRegistered.contacts.find((c) => c.channel === 'email')!;
    const token = t.app.get(OptOutService).unsubscribeToken(email.contactId);
    const page = await t.http().get(`/v1/unsubscribe/${email.contactId}?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.text.indexOf('id="quick-exit"')).toBeGreaterThan(-1);
    expect(page.text.indexOf('id="quick-exit"')).toBeLessThan(page.text.indexOf('<form'));
    expect(page.text).toContain('href="https://www.weather.gov/"');

    // What a browser sends when the page's button is pressed.
    const pressed = await t
      .http()
      .post(`/v1/unsubscribe/${email.contactId}?token=${token}`)
      .set('Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')
      .type('form')
      .send({ 'List-Unsubscribe': 'One-Click' });
    expect(pressed.status).toBe(200);
    expect(pressed.headers['content-type']).toMatch(/^text\/html/);
    expect(pressed.headers['cache-control']).toBe('no-store');
    expect(pressed.text).toContain('id="quick-exit"');
    expect(pressed.text).toContain('911');
    expect(pressed.text).not.toContain('"unsubscribed"');

    // A mail client's one-click unsubscribe (RFC 8058) keeps its JSON answer.
    const oneClick = await t
      .http()
      .post(`/v1/unsubscribe/${email.contactId}?token=${token}`)
      .type('form')
      .send({ 'List-Unsubscribe': 'One-Click' });
    expect(oneClick.status).toBe(200);
    expect(oneClick.body).toEqual({ unsubscribed: true });
  });

  it('no address, PIN, code or token is stored in clear or written to the log', async () => {
    const code = await latestCode(t, selfRegistered.contacts[0].contactId);
    const dump = await t.db.query(`
      SELECT string_agg(row_to_json(x)::text, E'\\n') AS text FROM (
        SELECT * FROM registration) x
      UNION ALL SELECT string_agg(row_to_json(c)::text, E'\\n') FROM contact c
      UNION ALL SELECT string_agg(row_to_json(d)::text, E'\\n') FROM delivery d
      UNION ALL SELECT string_agg(row_to_json(a)::text, E'\\n') FROM audit_log a
      UNION ALL SELECT string_agg(row_to_json(o)::text, E'\\n') FROM phone_opt_out o`);
    const stored = dump.rows.map((r) => r.text ?? '').join('\n');
    const logs = t.logs.join('\n');
    expect(stored.length).toBeGreaterThan(100);
    for (const secret of [...ADDRESSES, '7135550142', 'private.victim', selfRegistered.manageToken, 'Maria Victim']) {
      expect(stored, `stored: ${secret}`).not.toContain(secret);
      expect(logs, `logged: ${secret}`).not.toContain(secret);
    }
    // Short digit strings turn up by chance inside hex and base64; look for them as whole values.
    for (const secret of [PIN, code]) {
      const standalone = new RegExp(`(?<![0-9A-Za-z_+/=-])${secret}(?![0-9A-Za-z_+/=-])`);
      expect(stored, `stored: ${secret}`).not.toMatch(standalone);
      expect(logs, `logged: ${secret}`).not.toMatch(standalone);
    }
  });

  it('rotates the encryption key while the service runs', async () => {
    await t.app.get(OptOutService).smsKeyword(ADDRESSES[1], 'STOP');
    const oldKey = t.config.security.encryptionKey.toString('base64');
    const newKey = randomBytes(32).toString('base64');
    const shared = { ...env, DATABASE_URL: t.config.database.url!, JWT_SECRET: t.config.security.jwtSecret };
    const rotating = await startTestApp({
      databaseUrl: t.config.database.url,
      env: { ...shared, ENCRYPTION_KEY: newKey, ENCRYPTION_KEYS_PREVIOUS: oldKey },
    });
    const view = (app: TestApp, registration: { registrationId: string; manageToken: string }) =>
      app.http().get(`/v1/registrations/${registration.registrationId}`).set('Authorization', `Bearer ${registration.manageToken}`);
    const before = await view(rotating, selfRegistered);
    expect(before.status).toBe(200);
    expect(before.body.contacts.map((c: { address: string }) => c.address)).toEqual(['+1•••••0142', 'p•••@example.org']);
    try {
      const dataSource = rotating.app.get(DataSource);
      const [result, ...during] = await Promise.all([
        rotateEncryptionKey((work) => dataSource.transaction((tx) => work(tx)), rotating.app.get(FieldCipher)),
        ...Array.from({ length: 5 }, () => view(rotating, enrolled)),
      ]);
      expect(during.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(result.contacts).toBeGreaterThanOrEqual(4);
      expect(result.registrants).toBeGreaterThanOrEqual(1);
      expect(result.sources).toBeGreaterThanOrEqual(1);
      const { rows } = await t.db.query(`SELECT DISTINCT key_id FROM contact`);
      expect(rows).toEqual([{ key_id: rotating.app.get(FieldCipher).currentKeyId }]);
    } finally {
      await rotating.close();
    }

    // The old key is gone now: everything still reads, and the STOP survived the rotation.
    const after = await startTestApp({ databaseUrl: t.config.database.url, env: { ...shared, ENCRYPTION_KEY: newKey } });
    try {
      const res = await view(after, selfRegistered);
      expect(res.status).toBe(200);
      expect(res.body.contacts.map((c: { address: string }) => c.address)).toEqual(
        before.body.contacts.map((c: { address: string }) => c.address),
      );
      expect(res.body.contacts[0].optedOut).toBe(true);
      const staff = await after
        .http()
        .get(`/v1/registrations/${enrolled.registrationId}`)
        .set('Authorization', `Bearer ${await after.adminToken()}`);
      expect(staff.body.registrantName).toBe('Maria Victim');
    } finally {
      await after.close();
    }
  });
});
