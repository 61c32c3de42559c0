import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../migrations/index.js';
import { QuietHoursObjects1764234000000 } from '../../migrations/1764234000000-QuietHoursObjects.js';
import { revertMigrations, runMigrations } from '../../src/database/migrate.js';
import { bookPerson, register } from '../support/registrations.js';
import { createSource, event, personWith, postEvents, putRoster, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase } from '../support/test-database.js';

const PROBLEM_JSON = /^application\/problem\+json/;

/** `{a:{a:{…}}}` nested `depth` levels below the top. */
function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < depth; i++) value = { a: value };
  return value;
}

describe('#11.4 input hardening: every client mistake is a 422, never a 5xx, and changes nothing', () => {
  let t: TestApp;
  let source: TestSource;
  let personId: string;
  let specialist: string;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '10000' } });
    source = await createSource(t);
    personId = await bookPerson(t, source, 'HARDEN-1');
    specialist = await t.staffToken('specialist');
    admin = await t.adminToken();
  });
  afterAll(() => t.close());

  const registration = (extra: Record<string, unknown> = {}) => ({
    personId,
    language: 'en',
    contacts: [{ channel: 'email', address: 'victim.hardening@example.org' }],
    ...extra,
  });
  const count = async (table: string) => Number((await t.db.query(`SELECT count(*) FROM ${table}`)).rows[0].count);
  const expect422 = (res: { status: number; headers: Record<string, string>; body: { errors?: { path: string }[] } }, path: string) => {
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body.errors?.map((e) => e.path)).toContain(path);
  };

  describe('#11.4 arrays for objects', () => {
    it('#11.4 arrays for objects: quietHours [] and contacts [[]] are 422 on POST /v1/registrations, and nothing is stored', async () => {
      const before = await count('registration');
      expect422(await register(t, registration({ quietHours: [] })), 'quietHours');
      expect422(await register(t, registration({ quietHours: [{ start: '22:00', end: '07:00', timeZone: 'UTC' }] })), 'quietHours');
      expect422(await register(t, registration({ contacts: [[]] })), 'contacts');
      expect422(await register(t, registration({ contacts: [[{ channel: 'email', address: 'a@example.org' }]] })), 'contacts');
      expect(await count('registration')).toBe(before);
    });

    it('#11.4 arrays for objects: quietHours [] is 422 on POST /v1/enrollments and PATCH /v1/registrations/{id}', async () => {
      const enrol = await t
        .http()
        .post('/v1/enrollments')
        .set('Authorization', `Bearer ${specialist}`)
        .send(registration({ quietHours: [] }));
      expect422(enrol, 'quietHours');
      const created = await register(t, registration({ quietHours: { start: '22:00', end: '07:00', timeZone: 'America/Chicago' } }));
      expect(created.status).toBe(201);
      const patch = await t
        .http()
        .patch(`/v1/registrations/${created.body.registrationId}`)
        .set('Authorization', `Bearer ${created.body.manageToken}`)
        .send({ quietHours: [] });
      expect422(patch, 'quietHours');
      const { rows } = await t.db.query(`SELECT quiet_hours FROM registration WHERE id = $1`, [created.body.registrationId]);
      expect(rows[0].quiet_hours).toMatchObject({ start: '22:00', end: '07:00', timeZone: 'America/Chicago' });
    });

    it('#11.4 arrays for objects: person, facility, identifiers[0] and details as arrays are 422 on custody events and rosters', async () => {
      const before = await count('custody_event');
      expect422(await postEvents(t, source, event({ person: [] as unknown as Record<string, unknown> })), 'person');
      expect422(await postEvents(t, source, event({ facility: [] as unknown as Record<string, unknown> })), 'facility');
      expect422(await postEvents(t, source, event({ details: [] })), 'details');
      expect422(await postEvents(t, source, event({ person: { ...personWith('HARDEN-2'), identifiers: [[]] } })), 'person.identifiers[0]');
      expect422(await postEvents(t, source, { events: [event(), []] }), 'events[1]');
      expect422(await putRoster(t, source, 'HCJ-9', { asOf: new Date().toISOString(), people: [[]] }), 'people[0]');
      expect(await count('custody_event')).toBe(before);
    });
  });

  describe('#11.4 NUL and other C0 control characters', () => {
    it('#11.4 NUL in a custody event (field, vendor extra field, details key or value) is 422, not a 500 from PostgreSQL', async () => {
      const before = await count('custody_event');
      expect422(await postEvents(t, source, event({ person: personWith('HARDEN-3', { lastName: 'Do\u0000e' }) })), 'person.lastName');
      expect422(await postEvents(t, source, event({ vendorNote: 'a\u0000b' })), 'vendorNote');
      expect422(await postEvents(t, source, event({ details: { note: 'x\u0000' } })), 'details.note');
      expect422(await postEvents(t, source, event({ details: { 'k\u0000': 1 } })), 'details');
      expect422(await postEvents(t, source, { events: [event(), event({ sourceEventId: 'e\u0001' })] }), 'events[1].sourceEventId');
      expect(await count('custody_event')).toBe(before);
    });

    it('#11.4 NUL in a query string or a body of the other routes is 422', async () => {
      expect422(await t.http().get('/v1/people').query({ lastName: 'Do\u0000e', firstName: 'John' }), 'lastName');
      expect422(await t.http().get('/v1/people').query({ identifierSystem: 'A_NUMBER', identifier: 'X\u0000' }), 'identifier');
      expect422(await t.http().post('/v1/auth/login').send({ email: 'a\u0000@b.c', password: 'x' }), 'email');
      const staffBefore = await count('staff');
      const res = await t.http().post('/v1/admin/sources').set('Authorization', `Bearer ${admin}`).send({ name: 'Bad\u0000source' });
      expect422(res, 'name');
      expect(await count('staff')).toBe(staffBefore);
    });

    it('#11.4 NUL and C0 policy: tab, newline and carriage return only in free text (reason, details, vendor fields)', async () => {
      const reason = await t
        .http()
        .put(`/v1/admin/people/${personId}/protection`)
        .set('Authorization', `Bearer ${admin}`)
        .send({ protected: false, reason: 'Court order\r\nline two\tend' });
      expect(reason.status, reason.text).toBe(200);
      const nulReason = await t
        .http()
        .put(`/v1/admin/people/${personId}/protection`)
        .set('Authorization', `Bearer ${admin}`)
        .send({ protected: true, reason: 'x\u0000' });
      expect422(nulReason, 'reason');
      const freeText = await postEvents(t, source, event({ vendorNote: 'line\nbreak', details: { note: 'tab\there\r\n' } }));
      expect(freeText.status, freeText.text).toBe(202);
      expect422(await postEvents(t, source, event({ person: personWith('HARDEN-4', { firstName: 'Jo\nhn' }) })), 'person.firstName');
      expect422(await register(t, registration({ contacts: [{ channel: 'email', address: 'a\t@example.org' }] })), 'contacts[0].address');
      const { rows } = await t.db.query(`SELECT protected FROM person WHERE id = $1`, [personId]);
      expect(rows[0].protected).toBe(false);
    });
  });

  describe('#11.4 deep details', () => {
    it('#11.4 deep details: details 10 levels deep are accepted, 11 levels or 16 KB+ are 422', async () => {
      const ok = await postEvents(t, source, event({ details: nested(10) }));
      expect(ok.status, ok.text).toBe(202);
      expect422(await postEvents(t, source, event({ details: nested(11) })), 'details');
      expect422(await postEvents(t, source, event({ details: { blob: 'x'.repeat(16 * 1024) } })), 'details');
    });

    it('#11.4 deep details: nesting 100,000 levels deep (details, a vendor field, any body) is a 4xx, not a stack overflow', async () => {
      const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
      const raw = JSON.stringify(event()).replace(/}$/, `,"details":${deep}}`);
      const viaDetails = await postEvents(t, source, raw);
      expect(viaDetails.status, viaDetails.text).toBe(422);
      expect(viaDetails.body.errors[0].path).toMatch(/^details\.a\.a/);
      const viaVendor = await postEvents(t, source, JSON.stringify(event()).replace(/}$/, `,"vendor":${deep}}`));
      expect(viaVendor.status, viaVendor.text).toBe(422);
      const arrays = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
      const login = await t
        .http()
        .post('/v1/auth/login')
        .set('Content-Type', 'application/json')
        .send(`{"email":${arrays},"password":"x"}`);
      expect(login.status, login.text).toBe(422);
      expect((await t.http().get('/health/ready')).status).toBe(200);
    });
  });

  describe('#11.4 dates out of range', () => {
    it('#11.4 dates out of range: ?since= beyond PostgreSQL timestamps is 422', async () => {
      for (const since of ['-100000-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '0000-01-01T00:00:00Z', 'yesterday']) {
        const res = await t.http().get('/v1/admin/audit').query({ since }).set('Authorization', `Bearer ${admin}`);
        expect422(res, 'since');
      }
      const dateOfBirth = await t.http().get('/v1/people').query({ lastName: 'Doe', firstName: 'John', dateOfBirth: '0000-01-01' });
      expect422(dateOfBirth, 'dateOfBirth');
      const ok = await t.http().get('/v1/admin/audit').query({ since: '2026-01-01T00:00:00Z' }).set('Authorization', `Bearer ${admin}`);
      expect(ok.status).toBe(200);
    });

    it('#11.4 dates out of range: an event or roster time in year 0000 is 422', async () => {
      expect422(await postEvents(t, source, event({ occurredAt: '0000-01-01T00:00:00Z' })), 'occurredAt');
      expect422(
        await postEvents(t, source, event({ type: 'HEARING_SCHEDULED', scheduledFor: '0000-06-01T00:00:00+14:00' })),
        'scheduledFor',
      );
      expect422(await putRoster(t, source, 'HCJ-9', { asOf: '0000-01-01T00:00:00Z', people: [] }), 'asOf');
    });
  });

  describe('#11.4 path parameters', () => {
    it('#11.4 a path parameter that is not a uuid is 404 (422 when it holds a control character)', async () => {
      const res = await t.http().get('/v1/registrations/not-a-uuid').set('Authorization', `Bearer ${admin}`);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      expect422(await t.http().get('/v1/registrations/%00').set('Authorization', `Bearer ${admin}`), 'id');
      const staff = await t.http().patch('/v1/admin/staff/123').set('Authorization', `Bearer ${admin}`).send({ disabled: true });
      expect(staff.status).toBe(404);
      const code = await t.http().put('/v1/admin/facilities/%00/suppression').set('Authorization', `Bearer ${admin}`).send({
        suppressed: true,
        reason: 'x',
      });
      expect422(code, 'code');
    });
  });
});

describe('#11.4 arrays for objects already stored', () => {
  it('#11.4 arrays for objects: quiet hours stored as arrays are repaired by a migration, and the database refuses new ones', async () => {
    const url = await createTestDatabase({ empty: true });
    await runMigrations(url);
    await revertMigrations(url, MIGRATIONS.length - MIGRATIONS.indexOf(QuietHoursObjects1764234000000));
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const [{ id: personId }] = (
        await db.query(`INSERT INTO person (first_name, last_name, first_name_key, last_name_key) VALUES ('A', 'B', 'a', 'b') RETURNING id`)
      ).rows;
      const wrapped = { start: '22:00', end: '07:00', timeZone: 'America/Chicago' };
      const stored = [[], [wrapped], [wrapped, wrapped], 'x', { start: '22:00' }, wrapped, null];
      const ids: string[] = [];
      for (const [i, quietHours] of stored.entries()) {
        const { rows } = await db.query(
          `INSERT INTO registration (person_id, language, quiet_hours, manage_token_hash) VALUES ($1, 'en', $2, $3) RETURNING id`,
          [personId, JSON.stringify(quietHours), Buffer.from([i])],
        );
        ids.push(rows[0].id as string);
      }
      await runMigrations(url);
      const { rows } = await db.query(`SELECT id, quiet_hours FROM registration`);
      const after = ids.map((id) => rows.find((row: { id: string }) => row.id === id)?.quiet_hours);
      expect(after).toEqual([null, wrapped, null, null, null, wrapped, null]);
      await expect(db.query(`UPDATE registration SET quiet_hours = '[]' WHERE id = $1`, [ids[0]])).rejects.toThrow(/quiet_hours_object/);
    } finally {
      await db.end();
    }
  });
});
