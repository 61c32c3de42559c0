import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('GET /v1/people', () => {
  let t: TestApp;
  let source: TestSource;
  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '1000' } });
    source = await createSource(t);
    const events = [
      event({ person: personWith('555-111', { firstName: 'José', lastName: 'Núñez', dateOfBirth: '1985-03-04', countryOfBirth: 'MX' }) }),
      event({ person: personWith('555-222', { firstName: 'Jose', lastName: 'Nunez', dateOfBirth: '1990-01-01', countryOfBirth: 'US' }) }),
      event({ person: personWith('555-333', { firstName: 'Young', lastName: 'Person', dateOfBirth: '2012-05-05' }) }),
      event({ person: personWith('555-444', { firstName: 'Hidden', lastName: 'Person' }) }),
      ...Array.from({ length: 25 }, (_, i) => event({ person: personWith(`MANY-${i}`, { firstName: 'Common', lastName: 'Name' }) })),
    ];
    const res = await postEvents(t, source, { events });
    expect(res.status).toBe(202);
    const { rows } = await t.db.query(`SELECT person_id FROM person_identifier WHERE value = '555444'`);
    await t
      .http()
      .put(`/v1/admin/people/${rows[0].person_id}/protection`)
      .set('Authorization', `Bearer ${await t.adminToken()}`)
      .send({ protected: true, reason: 'victim safety' });
  });
  afterAll(() => t.close());

  const search = (query: Record<string, string>) => t.http().get('/v1/people').query(query);

  it('finds by identifier, with spaces, dashes and case ignored', async () => {
    const res = await search({ identifierSystem: 'A_NUMBER', identifier: ' 555 111 ' });
    expect(res.status).toBe(200);
    expect(res.body.people).toEqual([
      {
        personId: expect.any(String),
        displayName: 'José Núñez',
        custodyStatus: 'IN_CUSTODY',
        facility: { code: 'HCJ-1', name: 'Harris County Jail' },
        statusAsOf: expect.any(String),
      },
    ]);
    expect((await search({ identifierSystem: 'FBI_NUMBER', identifier: '555111' })).body.people).toEqual([]);
  });

  it('finds by exact first and last name, folding case and accents, narrowed by birth date or country', async () => {
    const both = await search({ lastName: 'NUNEZ', firstName: 'josé' });
    expect(both.body.people.map((p: { displayName: string }) => p.displayName).sort()).toEqual(['Jose Nunez', 'José Núñez']);
    expect((await search({ lastName: 'Nunez', firstName: 'Jose', dateOfBirth: '1985-03-04' })).body.people).toHaveLength(1);
    expect((await search({ lastName: 'Nunez', firstName: 'Jose', countryOfBirth: 'us' })).body.people).toHaveLength(1);
    expect((await search({ lastName: 'Nune', firstName: 'Jose' })).body.people).toEqual([]);
  });

  it('never shows minors or protected persons, by name or by identifier', async () => {
    expect((await search({ lastName: 'Person', firstName: 'Young' })).body.people).toEqual([]);
    expect((await search({ identifierSystem: 'A_NUMBER', identifier: '555-333' })).body.people).toEqual([]);
    expect((await search({ lastName: 'Person', firstName: 'Hidden' })).body.people).toEqual([]);
    expect((await search({ identifierSystem: 'A_NUMBER', identifier: '555-444' })).body.people).toEqual([]);
  });

  it('answers at most 20', async () => {
    expect((await search({ lastName: 'Name', firstName: 'Common' })).body.people).toHaveLength(20);
  });

  it.each([
    [{}],
    [{ lastName: 'Doe' }],
    [{ identifierSystem: 'A_NUMBER' }],
    [{ identifier: 'x', lastName: 'y', firstName: 'z', identifierSystem: 'A_NUMBER' }],
    [{ lastName: 'a', firstName: 'b', dateOfBirth: '1990-02-30x' }],
  ])('422 for incomplete or mixed criteria %o', async (query) => {
    const res = await search(query);
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
  });
});

describe('search rate limit', () => {
  it('answers 429 with Retry-After past PUBLIC_RATE_LIMIT_PER_MINUTE', async () => {
    const t = await startTestApp({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '3' } });
    try {
      for (let i = 0; i < 3; i++) expect((await t.http().get('/v1/people').query({ lastName: 'a', firstName: 'b' })).status).toBe(200);
      const limited = await t.http().get('/v1/people').query({ lastName: 'a', firstName: 'b' });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await t.close();
    }
  });

  it('counts each client behind a trusted proxy (TRUST_PROXY), not the proxy', async () => {
    const t = await startTestApp({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '2', TRUST_PROXY: 'loopback' } });
    try {
      const from = (client: string) => t.http().get('/v1/people').query({ lastName: 'a', firstName: 'b' }).set('X-Forwarded-For', client);
      expect((await from('203.0.113.7')).status).toBe(200);
      expect((await from('203.0.113.7')).status).toBe(200);
      expect((await from('203.0.113.7')).status).toBe(429);
      expect((await from('198.51.100.9')).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
