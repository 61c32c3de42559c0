import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { bookPerson, latestCode, register } from '../support/registrations.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('registrations', () => {
  let t: TestApp;
  let source: TestSource;
  let personId: string;
  const clock = new ManualClock(new Date());
  beforeAll(async () => {
    // The same few addresses register over and over here; the per-address code limit has its own tests (contact-limits).
    t = await startTestApp({ clock, env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '10000', CODES_PER_NUMBER_PER_DAY: '1000' } });
    source = await createSource(t);
    personId = await bookPerson(t, source, 'REG-1');
  });
  afterAll(() => t.close());

  const body = (extra: Record<string, unknown> = {}) => ({
    personId,
    language: 'es',
    contacts: [
      { channel: 'email', address: 'Victim.One@Example.org' },
      { channel: 'sms', address: '(713) 555-0101' },
    ],
    ...extra,
  });

  it('registers with unverified contacts, queues one code per contact, and returns a manage token once', async () => {
    const res = await register(t, body({ pin: '2468', contacts: [...body().contacts, { channel: 'voice', address: '+1 713 555 0102' }] }));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      registrationId: expect.any(String),
      manageToken: expect.stringMatching(/^vmt_[A-Za-z0-9_-]{43}$/),
      status: 'pending_verification',
      contacts: [
        { contactId: expect.any(String), channel: 'email', verified: false },
        { contactId: expect.any(String), channel: 'sms', verified: false, hint: expect.stringContaining('START') },
        { contactId: expect.any(String), channel: 'voice', verified: false },
      ],
    });
    const queued = await t.db.query(
      `SELECT d.channel, d.purpose, d.status, d.secret IS NOT NULL AS has_code FROM delivery d JOIN contact c ON c.id = d.contact_id WHERE c.registration_id = $1 ORDER BY d.channel`,
      [res.body.registrationId],
    );
    expect(queued.rows).toEqual([
      { channel: 'email', purpose: 'verification', status: 'pending', has_code: true },
      { channel: 'sms', purpose: 'verification', status: 'pending', has_code: true },
      { channel: 'voice', purpose: 'verification', status: 'pending', has_code: false },
    ]);
    expect(await latestCode(t, res.body.contacts[0].contactId)).toMatch(/^\d{6}$/);

    const view = await t.http().get(`/v1/registrations/${res.body.registrationId}`).set('Authorization', `Bearer ${res.body.manageToken}`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({
      registrationId: res.body.registrationId,
      personId,
      person: { displayName: 'John Doe', custodyStatus: 'IN_CUSTODY' },
      language: 'es',
      status: 'pending_verification',
      quietHours: null,
      enrolledBy: null,
    });
    expect(view.body.eventTypes).toHaveLength(10);
    expect(view.body.contacts.map((c: { address: string }) => c.address)).toEqual(['v•••@example.org', '+1•••••0101', '+1•••••0102']);
    expect(view.body).not.toHaveProperty('registrantName');
  });

  it.each([
    ['an unknown person', { personId: '00000000-0000-4000-8000-000000000000' }, 'personId'],
    ['a bad email', { contacts: [{ channel: 'email', address: 'victim@' }] }, 'contacts[0].address'],
    ['a bad phone number', { contacts: [{ channel: 'sms', address: '12' }] }, 'contacts[0].address'],
    ['a voice contact without a PIN', { contacts: [{ channel: 'voice', address: '+17135550103' }] }, 'pin'],
    ['a PIN of 5 digits', { pin: '12345' }, 'pin'],
    ['no contacts', { contacts: [] }, 'contacts'],
    ['seven contacts', { contacts: Array.from({ length: 7 }, (_, i) => ({ channel: 'email', address: `v${i}@example.org` })) }, 'contacts'],
    [
      'a duplicate contact',
      {
        contacts: [
          { channel: 'email', address: 'a@example.org' },
          { channel: 'email', address: 'A@example.org' },
        ],
      },
      'contacts[1]',
    ],
    ['an unsupported language', { language: 'fr' }, 'language'],
    ['an unknown channel', { contacts: [{ channel: 'fax', address: '+17135550104' }] }, 'contacts[0].channel'],
    ['an unknown event type', { eventTypes: ['PAROLED'] }, 'eventTypes'],
    ['a bad time zone', { quietHours: { start: '22:00', end: '07:00', timeZone: 'Mars/Olympus' } }, 'quietHours.timeZone'],
    ['a bad quiet-hours time', { quietHours: { start: '25:00', end: '07:00', timeZone: 'America/Chicago' } }, 'quietHours.start'],
  ])('422 for %s', async (_, overrides, path) => {
    const res = await register(t, body(overrides));
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it('refuses protected persons and minors exactly like unknown ones', async () => {
    const minor = await bookPerson(t, source, 'REG-MINOR', { dateOfBirth: '2015-01-01' });
    const hidden = await bookPerson(t, source, 'REG-HIDDEN');
    await t
      .http()
      .put(`/v1/admin/people/${hidden}/protection`)
      .set('Authorization', `Bearer ${await t.adminToken()}`)
      .send({ protected: true, reason: 'safety' });
    const unknown = await register(t, body({ personId: '00000000-0000-4000-8000-000000000000' }));
    for (const id of [minor, hidden]) {
      const res = await register(t, body({ personId: id }));
      expect(res.status).toBe(422);
      expect(res.body).toEqual(unknown.body);
    }
  });

  it('answers an address that is already registered exactly like a fresh one', async () => {
    const other = await bookPerson(t, source, 'REG-2');
    const first = await register(t, body());
    const again = await register(t, body());
    const elsewhere = await register(t, body({ personId: other }));
    const fresh = await register(
      t,
      body({
        contacts: [
          { channel: 'email', address: 'never.seen@example.org' },
          { channel: 'sms', address: '7135550199' },
        ],
      }),
    );
    const shape = (res: { status: number; body: Record<string, unknown> }) => ({
      status: res.status,
      keys: Object.keys(res.body).sort(),
      state: res.body.status,
      contacts: (res.body.contacts as { channel: string; verified: boolean }[]).map((c) => [c.channel, c.verified]),
    });
    expect(shape(again)).toEqual(shape(first));
    expect(shape(elsewhere)).toEqual(shape(first));
    expect(shape(fresh)).toEqual(shape(first));
  });

  describe('verification', () => {
    it('accepts the right code, refuses a wrong one, and locks after five wrong tries', async () => {
      const created = await register(t, body());
      const { registrationId } = created.body;
      const [email, sms] = created.body.contacts;
      const verify = (contactId: string, code: string) =>
        t.http().post(`/v1/registrations/${registrationId}/contacts/${contactId}/verify`).send({ code });

      const right = await latestCode(t, email.contactId);
      const wrong = right === '000000' ? '111111' : '000000';
      expect((await verify(email.contactId, wrong)).status).toBe(422);
      const ok = await verify(email.contactId, right);
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ contactId: email.contactId, verified: true });

      const smsCode = await latestCode(t, sms.contactId);
      const bad = smsCode === '000000' ? '111111' : '000000';
      const tries = [];
      for (let i = 0; i < 5; i++) tries.push((await verify(sms.contactId, bad)).status);
      expect(tries).toEqual([422, 422, 422, 422, 429]);
      const locked = await verify(sms.contactId, smsCode);
      expect(locked.status).toBe(429);
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);

      const view = await t.http().get(`/v1/registrations/${registrationId}`).set('Authorization', `Bearer ${created.body.manageToken}`);
      expect(view.body.status).toBe('active');
      expect(view.body.contacts.map((c: { verified: boolean }) => c.verified)).toEqual([true, false]);
    });

    it('parallel guesses cannot exceed five tries', async () => {
      const created = await register(t, body());
      const sms = created.body.contacts[1];
      const code = await latestCode(t, sms.contactId);
      const guesses = Array.from({ length: 12 }, (_, i) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0'));
      const answers = await Promise.all(
        guesses.map((guess) =>
          t.http().post(`/v1/registrations/${created.body.registrationId}/contacts/${sms.contactId}/verify`).send({ code: guess }),
        ),
      );
      expect(answers.filter((a) => a.status === 422).length).toBeLessThanOrEqual(4);
      const { rows } = await t.db.query(`SELECT code_attempts, code_locked_until FROM contact WHERE id = $1`, [sms.contactId]);
      expect(rows[0].code_attempts).toBe(5);
      expect(rows[0].code_locked_until).not.toBeNull();
    });

    it('a code expires after 30 minutes; resend waits a minute, then issues a new code', async () => {
      const created = await register(t, body());
      const { registrationId } = created.body;
      const email = created.body.contacts[0];
      const first = await latestCode(t, email.contactId);
      const resend = () => t.http().post(`/v1/registrations/${registrationId}/contacts/${email.contactId}/resend-code`);
      const tooSoon = await resend();
      expect(tooSoon.status).toBe(429);
      expect(Number(tooSoon.headers['retry-after'])).toBeGreaterThan(0);

      clock.advance(31 * 60_000);
      const expired = await t.http().post(`/v1/registrations/${registrationId}/contacts/${email.contactId}/verify`).send({ code: first });
      expect(expired.status).toBe(422);
      expect(expired.body.code).toBe('CODE_EXPIRED');

      expect((await resend()).status).toBe(202);
      const second = await latestCode(t, email.contactId);
      const ok = await t.http().post(`/v1/registrations/${registrationId}/contacts/${email.contactId}/verify`).send({ code: second });
      expect(ok.status).toBe(200);
    });

    it('a phone line verifies by call, not by code; resend places a new call', async () => {
      const created = await register(t, body({ pin: '1357', contacts: [{ channel: 'voice', address: '7135550107' }] }));
      const voice = created.body.contacts[0];
      const res = await t
        .http()
        .post(`/v1/registrations/${created.body.registrationId}/contacts/${voice.contactId}/verify`)
        .send({ code: '123456' });
      expect(res.status).toBe(422);
      clock.advance(61_000);
      expect((await t.http().post(`/v1/registrations/${created.body.registrationId}/contacts/${voice.contactId}/resend-code`)).status).toBe(
        202,
      );
      const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM delivery WHERE contact_id = $1 AND channel = 'voice'`, [
        voice.contactId,
      ]);
      expect(rows[0].n).toBe(2);
    });

    it('unknown ids answer 404, malformed codes 422', async () => {
      const created = await register(t, body());
      const missing = '00000000-0000-4000-8000-000000000000';
      expect(
        (await t.http().post(`/v1/registrations/${missing}/contacts/${created.body.contacts[0].contactId}/verify`).send({ code: '123456' }))
          .status,
      ).toBe(404);
      expect(
        (await t.http().post(`/v1/registrations/${created.body.registrationId}/contacts/${missing}/verify`).send({ code: '123456' }))
          .status,
      ).toBe(404);
      expect(
        (
          await t
            .http()
            .post(`/v1/registrations/${created.body.registrationId}/contacts/${created.body.contacts[0].contactId}/verify`)
            .send({ code: '12ab' })
        ).status,
      ).toBe(422);
    });
  });

  describe('self-service', () => {
    it('changes language, event types and quiet hours; clears quiet hours with null', async () => {
      const created = await register(t, body());
      const auth = `Bearer ${created.body.manageToken}`;
      const patched = await t
        .http()
        .patch(`/v1/registrations/${created.body.registrationId}`)
        .set('Authorization', auth)
        .send({
          language: 'en',
          eventTypes: ['RELEASED', 'ESCAPED'],
          quietHours: { start: '22:00', end: '07:00', timeZone: 'America/Chicago' },
        });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({
        language: 'en',
        eventTypes: ['RELEASED', 'ESCAPED'],
        quietHours: { start: '22:00', end: '07:00', timeZone: 'America/Chicago' },
      });
      const cleared = await t
        .http()
        .patch(`/v1/registrations/${created.body.registrationId}`)
        .set('Authorization', auth)
        .send({ quietHours: null });
      expect(cleared.body.quietHours).toBeNull();
      expect(cleared.body.eventTypes).toEqual(['RELEASED', 'ESCAPED']);
      expect(
        (await t.http().patch(`/v1/registrations/${created.body.registrationId}`).set('Authorization', auth).send({ language: 'xx' }))
          .status,
      ).toBe(422);
    });

    it('DELETE stops everything at once: waiting deliveries are suppressed', async () => {
      const created = await register(t, body());
      const auth = `Bearer ${created.body.manageToken}`;
      const del = await t.http().delete(`/v1/registrations/${created.body.registrationId}`).set('Authorization', auth);
      expect(del.status).toBe(204);
      const { rows } = await t.db.query(
        `SELECT DISTINCT d.status FROM delivery d JOIN contact c ON c.id = d.contact_id WHERE c.registration_id = $1`,
        [created.body.registrationId],
      );
      expect(rows).toEqual([{ status: 'suppressed' }]);
      const view = await t.http().get(`/v1/registrations/${created.body.registrationId}`).set('Authorization', auth);
      expect(view.body.status).toBe('stopped');
      expect(
        (await t.http().patch(`/v1/registrations/${created.body.registrationId}`).set('Authorization', auth).send({ language: 'en' }))
          .status,
      ).toBe(409);
      expect((await t.http().delete(`/v1/registrations/${created.body.registrationId}`).set('Authorization', auth)).status).toBe(204);
    });
  });

  it('follows the person through a merge', async () => {
    const older = await bookPerson(t, source, 'MERGE-OLD');
    const younger = (await postEvents(t, source, event({ person: personWith('MERGE-YOUNG', {}, 'FBI_NUMBER') }))).body.results[0]
      .eventId as string;
    const youngerId = (await t.db.query(`SELECT person_id FROM custody_event WHERE id = $1`, [younger])).rows[0].person_id as string;
    const created = await register(t, body({ personId: youngerId }));
    expect(created.status).toBe(201);
    const joined = await postEvents(
      t,
      source,
      event({
        type: 'TRANSFERRED',
        toFacility: { code: 'STATE-9' },
        person: {
          identifiers: [
            { system: 'A_NUMBER', value: 'MERGE-OLD' },
            { system: 'FBI_NUMBER', value: 'MERGE-YOUNG' },
          ],
          firstName: 'John',
          lastName: 'Doe',
        },
      }),
    );
    expect(joined.status).toBe(202);
    const { rows } = await t.db.query(`SELECT person_id FROM registration WHERE id = $1`, [created.body.registrationId]);
    expect(rows[0].person_id).toBe(older);
    const view = await t
      .http()
      .get(`/v1/registrations/${created.body.registrationId}`)
      .set('Authorization', `Bearer ${created.body.manageToken}`);
    expect(view.body.person).toMatchObject({ custodyStatus: 'TRANSFERRED', facility: { code: 'STATE-9' } });
  });
});
