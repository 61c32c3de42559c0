import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSource, event, personWith, postEvents, putRoster } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** Defects found by the review of the upstream feed side: each test failed before its fix. */
describe('#11 review of the upstream feed side', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const count = async (sql: string, params: unknown[] = []) => (await t.db.query(sql, params)).rows[0].n as number;

  it('#11 upstream review: an identifier that is only spaces and dashes is 422: it would join every such person, across sources, into one', async () => {
    const first = await createSource(t);
    const second = await createSource(t);
    const persons = await count(`SELECT count(*)::int AS n FROM person`);
    const dash = await postEvents(t, first, event({ person: personWith('-', { firstName: 'Ana', lastName: 'Ruiz' }) }));
    expect(dash.status, dash.text).toBe(422);
    expect(dash.headers['content-type']).toMatch(/problem\+json/);
    expect(dash.body.errors).toEqual([{ path: 'person.identifiers[0].value', message: expect.any(String) }]);
    const space = await postEvents(t, second, event({ person: personWith(' - ', { firstName: 'Bo', lastName: 'Lee' }) }));
    expect(space.status, space.text).toBe(422);
    const roster = await putRoster(t, second, 'REV-1', { asOf: new Date().toISOString(), people: [personWith('--')] });
    expect(roster.status, roster.text).toBe(422);
    expect(roster.body.errors).toEqual([{ path: 'people[0].identifiers[0].value', message: expect.any(String) }]);
    expect(await count(`SELECT count(*)::int AS n FROM person`)).toBe(persons);
    expect(await count(`SELECT count(*)::int AS n FROM person_identifier WHERE value = ''`)).toBe(0);
  });
});
