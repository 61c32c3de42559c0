import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookPerson, register } from '../support/registrations.js';
import { createSource, event, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const TWILIO_TOKEN = 'twilio-auth-token-for-log-tests';
const PUBLIC_BASE_URL = 'https://vigil.test';

/** Values no log line may carry, whatever fails. Distinctive, so a chance match is impossible. */
const SENT = {
  firstName: 'Quillfeatherine',
  lastName: 'Zabrowskiovna',
  dateOfBirth: '1961-07-23',
  country: 'Freedonistan',
  aNumber: 'A-987-654-321',
  staffEmail: 'leaky.staffer@example.org',
  staffPassword: 'Pa55word-leak-canary',
  loginPassword: 'Login-canary-passw0rd',
  sourceName: 'Canaryvale County Feed',
  protectionReason: 'Court order Nightingale-4471',
  suppressionReason: 'Maintenance Kestrelwood-8812',
  registrantName: 'Ophelia Canarywood',
  email: 'canary.victim@example.org',
  phone: '+17135550199',
  pin: '7391',
  code: '604213',
};
/** The forms the app itself derives from what was sent (normalized before it reaches a query). */
const DERIVED = ['A987654321', '7135550199', 'quillfeatherine', 'zabrowskiovna', 'canary.victim', 'leaky.staffer'];

describe('logs when the database refuses (#11.7)', () => {
  let t: TestApp;
  let source: TestSource;
  let admin: string;
  let specialist: string;
  let personId: string;
  let staffId: string;
  let registration: { registrationId: string; manageToken: string; contacts: { contactId: string }[] };
  const printed: string[] = [];
  const restoreOutput: (() => void)[] = [];

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        LOG_LEVEL: 'trace',
        PUBLIC_RATE_LIMIT_PER_MINUTE: '10000',
        LOGIN_RATE_LIMIT_PER_MINUTE: '10000',
        TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
        TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
        TWILIO_FROM_NUMBER: '+15005550006',
        PUBLIC_BASE_URL,
      },
    });
    source = await createSource(t);
    admin = await t.adminToken();
    specialist = await t.staffToken('specialist');
    personId = await bookPerson(t, source, 'LOGS-1');
    const created = await register(t, { personId, language: 'en', contacts: [{ channel: 'email', address: 'someone@example.org' }] });
    registration = created.body;
    const staff = await t.http().get('/v1/admin/staff').set('Authorization', `Bearer ${admin}`);
    staffId = staff.body.find((s: { role: string }) => s.role === 'specialist').staffId;
    // Anything TypeORM or a library writes to the console is a log line too.
    for (const stream of [process.stdout, process.stderr]) {
      const write = stream.write.bind(stream);
      stream.write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
        printed.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
      };
      restoreOutput.push(() => (stream.write = write));
    }
  });
  afterAll(async () => {
    for (const restore of restoreOutput) restore();
    await t?.close();
  });

  /** Every route that carries a value from a person, a victim or a staff member. */
  function requests(): [string, () => Promise<{ status: number }>][] {
    const inbound = '/v1/webhooks/twilio/sms-inbound';
    const sms = { From: SENT.phone, Body: 'STOP' };
    const person = {
      identifiers: [{ system: 'A_NUMBER', value: SENT.aNumber }],
      firstName: SENT.firstName,
      lastName: SENT.lastName,
      dateOfBirth: SENT.dateOfBirth,
      countryOfBirth: SENT.country,
    };
    const { registrationId, manageToken, contacts } = registration;
    return [
      [
        'search by name',
        () =>
          t
            .http()
            .get('/v1/people')
            .query({ lastName: SENT.lastName, firstName: SENT.firstName, dateOfBirth: SENT.dateOfBirth, countryOfBirth: SENT.country }),
      ],
      ['search by identifier', () => t.http().get('/v1/people').query({ identifierSystem: 'A_NUMBER', identifier: SENT.aNumber })],
      ['custody event', () => postEvents(t, source, event({ person }))],
      [
        'roster',
        () =>
          t
            .http()
            .put('/v1/facilities/LOGS-FAC/roster')
            .set('Authorization', `Bearer ${source.apiKey}`)
            .send({ asOf: new Date().toISOString(), people: [person] }),
      ],
      [
        'registration',
        () =>
          register(t, {
            personId,
            language: 'en',
            pin: SENT.pin,
            contacts: [
              { channel: 'email', address: SENT.email },
              { channel: 'sms', address: SENT.phone },
              { channel: 'voice', address: SENT.phone },
            ],
          }),
      ],
      [
        'enrolment',
        () =>
          t
            .http()
            .post('/v1/enrollments')
            .set('Authorization', `Bearer ${specialist}`)
            .send({ personId, language: 'en', registrantName: SENT.registrantName, contacts: [{ channel: 'email', address: SENT.email }] }),
      ],
      [
        'verify',
        () => t.http().post(`/v1/registrations/${registrationId}/contacts/${contacts[0].contactId}/verify`).send({ code: SENT.code }),
      ],
      ['resend code', () => t.http().post(`/v1/registrations/${registrationId}/contacts/${contacts[0].contactId}/resend-code`).send()],
      ['registration view', () => t.http().get(`/v1/registrations/${registrationId}`).set('Authorization', `Bearer ${manageToken}`)],
      [
        'registration change',
        () =>
          t
            .http()
            .patch(`/v1/registrations/${registrationId}`)
            .set('Authorization', `Bearer ${manageToken}`)
            .send({ quietHours: { start: '22:00', end: '07:00', timeZone: 'America/Chicago' } }),
      ],
      ['staff view of a registration', () => t.http().get(`/v1/registrations/${registrationId}`).set('Authorization', `Bearer ${admin}`)],
      [
        'staff create',
        () =>
          t
            .http()
            .post('/v1/admin/staff')
            .set('Authorization', `Bearer ${admin}`)
            .send({ email: SENT.staffEmail, password: SENT.staffPassword, role: 'specialist' }),
      ],
      [
        'staff disable',
        () => t.http().patch(`/v1/admin/staff/${staffId}`).set('Authorization', `Bearer ${admin}`).send({ disabled: true }),
      ],
      ['source create', () => t.http().post('/v1/admin/sources').set('Authorization', `Bearer ${admin}`).send({ name: SENT.sourceName })],
      [
        'protection',
        () =>
          t
            .http()
            .put(`/v1/admin/people/${personId}/protection`)
            .set('Authorization', `Bearer ${admin}`)
            .send({ protected: true, reason: SENT.protectionReason }),
      ],
      [
        'suppression',
        () =>
          t
            .http()
            .put('/v1/admin/facilities/HCJ-1/suppression')
            .set('Authorization', `Bearer ${admin}`)
            .send({ suppressed: true, reason: SENT.suppressionReason }),
      ],
      [
        'sms STOP',
        () =>
          t
            .http()
            .post(inbound)
            .type('form')
            .set('X-Twilio-Signature', twilio.getExpectedTwilioSignature(TWILIO_TOKEN, `${PUBLIC_BASE_URL}${inbound}`, sms))
            .send(sms),
      ],
      ['audit', () => t.http().get('/v1/admin/audit').query({ since: '2026-01-01T00:00:00Z' }).set('Authorization', `Bearer ${admin}`)],
    ];
  }

  async function tables(): Promise<string[]> {
    const { rows } = await t.db.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> 'schema_migrations' AND NOT c.relispartition`,
    );
    return rows.map((r) => r.name);
  }

  it('#11.7 no value sent to any route appears in a log line when its queries fail', async () => {
    const failures = new Map<string, number[]>();
    const run = async () => {
      for (const [route, send] of requests()) {
        const res = await send();
        failures.set(route, [...(failures.get(route) ?? []), res.status]);
      }
    };

    // Every write refused: PostgreSQL's error detail then carries the whole row ("Failing row contains ...").
    const all = await tables();
    for (const table of all) await t.db.query(`ALTER TABLE "${table}" ADD CONSTRAINT refuse_writes CHECK (false) NOT VALID`);
    try {
      await run();
    } finally {
      for (const table of all) await t.db.query(`ALTER TABLE "${table}" DROP CONSTRAINT refuse_writes`);
    }

    // Every read refused (the guards' own tables aside, so each route reaches its queries).
    const hidden = all.filter((table) => !['staff', 'source', 'source_key'].includes(table));
    for (const table of hidden) await t.db.query(`ALTER TABLE "${table}" RENAME TO "${table}_gone"`);
    try {
      await run();
    } finally {
      for (const table of hidden) await t.db.query(`ALTER TABLE "${table}_gone" RENAME TO "${table}"`);
    }
    // And the staff table, for the login.
    await t.db.query(`ALTER TABLE staff RENAME TO staff_gone`);
    try {
      const login = await t.http().post('/v1/auth/login').send({ email: SENT.staffEmail, password: SENT.loginPassword });
      failures.set('login', [login.status]);
    } finally {
      await t.db.query(`ALTER TABLE staff_gone RENAME TO staff`);
    }

    // Every route failed on the database at least once, and those failures were logged by SQLSTATE.
    for (const [route, statuses] of failures)
      expect(
        statuses.some((s) => s >= 500),
        `${route}: ${statuses.join(', ')}`,
      ).toBe(true);
    const logs = [...t.logs, ...printed].join('\n');
    for (const value of [...Object.values(SENT), ...DERIVED]) {
      const standalone = new RegExp(`(?<![0-9A-Za-z_+/=-])${value.replace(/[.+]/g, '\\$&')}(?![0-9A-Za-z_+/=-])`, 'i');
      expect(logs, `logged: ${value}`).not.toMatch(standalone);
    }
    expect(logs).toContain('"sqlState":"23514"');
    expect(logs).toContain('"sqlState":"42P01"');
    expect(logs).toMatch(/"statement":"[a-z]+ [a-z_]+#[0-9a-f]{8}"/);
    // TypeORM's own failure lines went through the same filter (the app logs at trace here).
    expect(t.logs.some((line) => line.includes('"context":"Database"') && line.includes('query failed'))).toBe(true);
  });
});
