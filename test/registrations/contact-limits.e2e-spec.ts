import twilioSdk from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { VerificationService } from '../../src/registrations/verification.service.js';
import { FakeTwilio } from '../support/fake-twilio.js';
import { ManualClock } from '../support/manual-clock.js';
import { bookPerson, latestCode, register, verificationsByChannel } from '../support/registrations.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { createSource, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const HOUR = 3_600_000;
const signature = (url: string, params: Record<string, string>) => twilioSdk.getExpectedTwilioSignature('test-token', url, params);
const DAY = 24 * HOUR;

interface Created {
  registrationId: string;
  manageToken: string;
  contacts: { contactId: string; channel: string }[];
}

describe('which numbers, how many codes, and for how long', () => {
  let t: TestApp;
  let smtp: SmtpSink;
  let twilio: FakeTwilio;
  let source: TestSource;
  let personId: string;
  let otherPersonId: string;
  const clock = new ManualClock(new Date('2026-11-26T15:00:00Z'));
  let phone = 7135550300;
  let mailbox = 0;

  beforeAll(async () => {
    smtp = new SmtpSink();
    twilio = new FakeTwilio();
    await Promise.all([smtp.start(), twilio.start()]);
    t = await startTestApp({ clock, env: env() });
    source = await createSource(t);
    personId = await bookPerson(t, source, 'LIMITS-1');
    otherPersonId = await bookPerson(t, source, 'LIMITS-2');
  });
  afterAll(async () => {
    await t.close();
    await Promise.all([smtp.stop(), twilio.stop()]);
  });

  const env = () => ({
    PUBLIC_RATE_LIMIT_PER_MINUTE: '10000',
    SMTP_URL: smtp.url,
    TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
    TWILIO_AUTH_TOKEN: 'test-token',
    TWILIO_FROM_NUMBER: '+15005550006',
    TWILIO_API_BASE_URL: twilio.baseUrl,
    PUBLIC_BASE_URL: 'https://vigil.test',
  });
  const drain = () => t.app.get(DispatcherService).drain();
  const nextPhone = () => `+1${++phone}`;
  const nextEmail = () => `limits.${++mailbox}@example.org`;
  const sms = (address: string) => ({ channel: 'sms', address });
  const signUp = async (contacts: { channel: string; address: string }[], extra: Record<string, unknown> = {}) => {
    const res = await register(t, { personId, language: 'en', contacts, ...extra });
    expect(res.status).toBe(201);
    return res;
  };
  const contactPath = (created: Created, index = 0) =>
    `/v1/registrations/${created.registrationId}/contacts/${created.contacts[index].contactId}`;
  const verify = (created: Created, code: string, index = 0) =>
    t
      .http()
      .post(`${contactPath(created, index)}/verify`)
      .send({ code });
  const resend = (created: Created, index = 0, token?: string) => {
    const req = t.http().post(`${contactPath(created, index)}/resend-code`);
    return token ? req.set('Authorization', `Bearer ${token}`) : req;
  };
  const view = (created: Created) =>
    t.http().get(`/v1/registrations/${created.registrationId}`).set('Authorization', `Bearer ${created.manageToken}`);
  /** The last code the fake Twilio was asked to text to a number. */
  const lastSmsCode = (to: string) => {
    const body = twilio.messagesTo(to).at(-1)?.params.Body ?? '';
    const code = /\b(\d{6})\b/.exec(body)?.[1];
    if (!code) throw new Error(`no code was texted to ${to}`);
    return code;
  };
  const wrongFor = (code: string) => (code === '000000' ? '111111' : '000000');
  const verificationsTo = async (registrationIds: string[]) => {
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS n FROM delivery d JOIN contact c ON c.id = d.contact_id
       WHERE d.purpose = 'verification' AND c.registration_id = ANY($1::uuid[])`,
      [registrationIds],
    );
    return rows[0].n as number;
  };

  describe('#11.12 numbers a person answers, where Vigil serves', () => {
    it.each([
      ['premium-rate', '+1 900 555 0100'],
      ['toll-free', '+1 888 555 0100'],
      ['personal-number (5XX)', '+1 500 555 0006'],
      ['unknown-type', '+1 684 555 0100'],
      ['outside PHONE_COUNTRIES (a UK mobile)', '+44 7911 123456'],
      ['outside PHONE_COUNTRIES (a German mobile)', '+49 151 12345678'],
    ])('#11.12 %s number refused with 422 saying which numbers are accepted', async (_, number) => {
      for (const channel of ['sms', 'voice']) {
        const res = await register(t, { personId, language: 'en', pin: '2468', contacts: [{ channel, address: number }] });
        expect(res.status).toBe(422);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.body.errors).toEqual([
          { path: 'contacts[0].address', message: 'must be a mobile, landline or VoIP number in US, PR, GU, VI, AS or MP' },
        ]);
      }
    });

    it('#11.12 mobile, fixed and either-kind lines in US, PR, GU, VI, AS and MP are accepted', async () => {
      for (const number of [
        '+1 787 234 5678',
        '+1 671 234 5678',
        '+1 340 712 3456',
        '+1 684 622 1234',
        '+1 684 733 1234',
        '+1 670 234 5678',
      ]) {
        const res = await register(t, { personId, language: 'en', contacts: [sms(number)] });
        expect(res.status, number).toBe(201);
      }
    });

    it('#11.12 a specialist enrolling a victim is held to the same numbers', async () => {
      const specialist = await t.staffToken('specialist');
      const res = await t
        .http()
        .post('/v1/enrollments')
        .set('Authorization', `Bearer ${specialist}`)
        .send({ personId, language: 'en', contacts: [sms('+1 900 555 0100')] });
      expect(res.status).toBe(422);
      expect(res.body.errors[0].path).toBe('contacts[0].address');
    });
  });

  describe('#11.13 codes per destination', () => {
    it('#11.13 at most five codes to one number or email in 24 h across registrations; the sixth registration answers the same and sends nothing', async () => {
      const number = nextPhone();
      const email = nextEmail();
      const answers: Awaited<ReturnType<typeof signUp>>[] = [];
      for (let i = 0; i < 6; i++) {
        answers.push(await signUp([{ channel: 'email', address: email }, sms(number)], { personId: i % 2 ? otherPersonId : personId }));
        clock.advance(1000);
      }
      const shape = (res: (typeof answers)[number]) => ({
        status: res.status,
        type: res.headers['content-type'],
        length: res.headers['content-length'],
        body: JSON.stringify(res.body)
          .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'ID')
          .replace(/vmt_[\w-]{43}/g, 'TOKEN'),
      });
      for (const res of answers.slice(1)) expect(shape(res)).toEqual(shape(answers[0]));

      await drain();
      expect(twilio.messagesTo(number)).toHaveLength(5);
      expect(smtp.to(email)).toHaveLength(5);
      expect(await verificationsTo([answers[5].body.registrationId])).toBe(0);
    });

    it('#11.13 SMS and calls to one number in one registration are one number to the limit', async () => {
      const number = nextPhone();
      const ids = [(await signUp([sms(number), { channel: 'voice', address: number }], { pin: '1357' })).body.registrationId];
      for (let i = 0; i < 4; i++) ids.push((await signUp([sms(number)])).body.registrationId);
      await drain();
      expect(twilio.messagesTo(number).length + twilio.callsTo(number).length).toBe(5);
      expect(await verificationsTo(ids)).toBe(5);
    });

    it('#11.13 registrations at once for the same number, on two api processes, do not slip past the limit', async () => {
      // A second process on the same database with the same key: the processes share only PostgreSQL.
      const other = await startTestApp({
        clock,
        databaseUrl: t.config.database.url,
        env: { ...env(), ENCRYPTION_KEY: t.config.security.encryptionKey.toString('base64') },
      });
      try {
        const number = nextPhone();
        const email = nextEmail();
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) ids.push((await signUp([sms(number)])).body.registrationId);
        // Email and phone in both orders, so that two sign-ups also claim the two addresses in opposite orders.
        const racing = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            register(i % 2 ? other : t, {
              personId,
              language: 'en',
              contacts:
                i % 4 < 2 ? [sms(number), { channel: 'email', address: email }] : [{ channel: 'email', address: email }, sms(number)],
            }),
          ),
        );
        expect(racing.map((r) => r.status)).toEqual(Array(8).fill(201));
        ids.push(...racing.map((r) => r.body.registrationId as string));
        expect(await verificationsByChannel(t, ids)).toEqual([
          { channel: 'email', n: 5 },
          { channel: 'sms', n: 5 },
        ]);
      } finally {
        await other.close();
      }
    });

    it('#11.13 past the limit resend-code answers 429 with Retry-After until a slot frees, and the manage view says codes are paused', async () => {
      const number = nextPhone();
      const start = clock.now().getTime();
      const created: Created[] = [];
      for (let i = 0; i < 6; i++) {
        created.push((await signUp([sms(number)])).body);
        clock.advance(60_000);
      }
      await drain();
      expect(twilio.messagesTo(number)).toHaveLength(5);
      const sixth = created[5];
      const paused = await resend(sixth);
      expect(paused.status).toBe(429);
      expect(paused.headers['content-type']).toContain('application/problem+json');
      expect(paused.body).toMatchObject({ status: 429, code: 'CODES_PAUSED' });
      // The first of the five codes went out at `start`; its slot frees 24 h later.
      const wait = Math.ceil((start + DAY - clock.now().getTime()) / 1000);
      expect(Number(paused.headers['retry-after'])).toBe(wait);

      const managed = await view(sixth);
      expect(managed.status).toBe(200);
      expect(managed.body.contacts[0]).toMatchObject({ verified: false, codesPausedUntil: new Date(start + DAY).toISOString() });

      clock.set(new Date(start + DAY + 1000));
      const freed = await resend(sixth);
      expect(freed.status).toBe(202);
      await drain();
      expect(twilio.messagesTo(number)).toHaveLength(6);
      expect((await verify(sixth, lastSmsCode(number))).status).toBe(200);
      const after = await view(sixth);
      expect(after.body.contacts[0].codesPausedUntil).toBeNull();
    });

    it('#11.13 the codes-paused field is documented in the OpenAPI contact view', async () => {
      const docs = await t.http().get('/docs-json');
      expect(docs.body.components.schemas.ContactViewDto.properties.codesPausedUntil).toMatchObject({
        format: 'date-time',
        nullable: true,
      });
    });
  });

  describe('#11.13 unverified registrations expire after 24 h', () => {
    it('#11.13 after 24 h an unverified registration is gone: 404 to its token, verify and resend refuse, nothing is sent to it', async () => {
      const staleNumber = nextPhone();
      const email = nextEmail();
      const stale = (await signUp([{ channel: 'email', address: email }, sms(staleNumber)])).body as Created;
      const kept = (await signUp([sms(nextPhone())])).body as Created;

      // Verified in time: this one stays. (Its code is read from its queued message: nothing is dispatched before the day is over.)
      expect((await verify(kept, await latestCode(t, kept.contacts[0].contactId))).status).toBe(200);
      clock.advance(DAY - 60_000);
      const late = (await signUp([sms(nextPhone())])).body as Created;
      clock.advance(2 * 60_000);

      expect((await view(stale)).status).toBe(404);
      expect(
        (await t.http().delete(`/v1/registrations/${stale.registrationId}`).set('Authorization', `Bearer ${stale.manageToken}`)).status,
      ).toBe(404);
      expect((await verify(stale, '123456', 1)).status).toBe(404);
      expect((await resend(stale, 1)).status).toBe(404);
      expect((await view(kept)).status).toBe(200);
      expect((await view(late)).status).toBe(200);

      await t.app.get(VerificationService).expireUnverified();
      await drain();
      expect(twilio.messagesTo(staleNumber)).toHaveLength(0);
      expect(smtp.to(email)).toHaveLength(0);
      const { rows } = await t.db.query(`SELECT id, status FROM registration WHERE id = ANY($1::uuid[])`, [
        [stale.registrationId, kept.registrationId, late.registrationId],
      ]);
      const status = Object.fromEntries(rows.map((r) => [r.id, r.status]));
      expect([status[stale.registrationId], status[kept.registrationId], status[late.registrationId]]).toEqual([
        'expired',
        'active',
        'active',
      ]);
      const { rows: waiting } = await t.db.query(
        `SELECT DISTINCT d.status FROM delivery d JOIN contact c ON c.id = d.contact_id WHERE c.registration_id = $1`,
        [stale.registrationId],
      );
      expect(waiting).toEqual([{ status: 'suppressed' }]);
    });

    it('#11.13 an unverified contact of a verified registration gets no more codes after 24 h', async () => {
      const number = nextPhone();
      const created = (await signUp([{ channel: 'email', address: nextEmail() }, sms(number)])).body as Created;
      expect((await verify(created, await latestCode(t, created.contacts[0].contactId))).status).toBe(200);
      clock.advance(DAY - 60_000);
      expect((await resend(created, 1)).status).toBe(202);
      clock.advance(2 * 60_000);
      expect((await resend(created, 1)).status).toBe(404);
      expect((await verify(created, await latestCode(t, created.contacts[1].contactId), 1)).status).toBe(404);
      expect((await view(created)).body.contacts.map((c: { verified: boolean }) => c.verified)).toEqual([true, false]);
    });
    it('#11.13 a verification call answered with the PIN after the day is over verifies nothing and revives nothing', async () => {
      const number = nextPhone();
      const created = (await signUp([{ channel: 'voice', address: number }], { pin: '2468' })).body as Created;
      await drain();
      const [call] = twilio.callsTo(number);
      const pinPath = `${new URL(call.params.Url).pathname}/pin?try=1`;
      clock.advance(DAY + 60_000);
      const params = { Digits: '2468', CallSid: 'CA-LATE-PIN' };
      await t
        .http()
        .post(pinPath)
        .type('form')
        .set('X-Twilio-Signature', signature(`https://vigil.test${pinPath}`, params))
        .send(params);
      const { rows } = await t.db.query(`SELECT verified_at FROM contact WHERE id = $1`, [created.contacts[0].contactId]);
      expect(rows[0].verified_at).toBeNull();
      expect((await view(created)).status).toBe(404);
    });
  });

  describe('#11.13 wrong codes', () => {
    it('#11.13 five wrong codes lock the contact for an hour, and a resend does not reset the count', async () => {
      const number = nextPhone();
      const created = (await signUp([sms(number)])).body as Created;
      await drain();
      const code = lastSmsCode(number);
      const tries = [];
      for (let i = 0; i < 5; i++) tries.push((await verify(created, wrongFor(code))).status);
      expect(tries).toEqual([422, 422, 422, 422, 429]);

      clock.advance(61_000);
      const early = await resend(created);
      expect(early.status).toBe(429);
      expect(early.body.code).toBe('CONTACT_LOCKED');
      expect(Number(early.headers['retry-after'])).toBe(3600 - 61);
      expect((await verify(created, code)).status).toBe(429);

      clock.advance(HOUR);
      expect((await resend(created)).status).toBe(202);
      await drain();
      const { rows } = await t.db.query(`SELECT code_attempts FROM contact WHERE id = $1`, [created.contacts[0].contactId]);
      expect(rows[0].code_attempts).toBe(5);
      expect((await verify(created, lastSmsCode(number))).status).toBe(200);
    });

    it('#11.13 ten wrong codes in a day lock the contact until a specialist resends or the victim registers anew', async () => {
      const number = nextPhone();
      const created = (await signUp([sms(number)])).body as Created;
      await drain();
      for (let i = 0; i < 5; i++) await verify(created, wrongFor(lastSmsCode(number)));
      clock.advance(HOUR + 1000);
      expect((await resend(created)).status).toBe(202);
      await drain();
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await verify(created, wrongFor(lastSmsCode(number)))).status);
      expect(statuses).toEqual([422, 422, 422, 422, 429]);

      clock.advance(2 * HOUR);
      expect((await verify(created, lastSmsCode(number))).status).toBe(429);
      const victimResend = await resend(created);
      expect(victimResend.status).toBe(429);
      expect(victimResend.body.code).toBe('CONTACT_LOCKED_FOR_HELP');
      expect(Number(victimResend.headers['retry-after'])).toBeGreaterThan(0);

      // A new registration is a new contact with a clean count.
      const anew = (await signUp([sms(number)])).body as Created;
      await drain();
      expect((await verify(anew, lastSmsCode(number))).status).toBe(200);

      // A specialist's resend unlocks the old one.
      const specialist = await t.staffToken('specialist');
      expect((await resend(created, 0, specialist)).status).toBe(202);
      await drain();
      expect((await verify(created, lastSmsCode(number))).status).toBe(200);
    });
  });
});
