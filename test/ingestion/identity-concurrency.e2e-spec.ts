import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/database/queryable.js';
import { IdentityResolver } from '../../src/people/identity-resolver.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** Identity resolution and merges under concurrent transactions, forced with a second connection. */
describe('identity under concurrency', () => {
  let t: TestApp;
  let source: TestSource;

  beforeAll(async () => {
    t = await startTestApp();
    source = await createSource(t);
  });
  afterAll(() => t.close());

  /** A person known by two identifiers of different systems: the event that merges two records. */
  const joined = (aNumber: string, fbiNumber: string) => ({
    identifiers: [
      { system: 'A_NUMBER', value: aNumber },
      { system: 'FBI_NUMBER', value: fbiNumber },
    ],
    firstName: 'John',
    lastName: 'Doe',
  });

  const book = async (person: Record<string, unknown>) => {
    const res = await postEvents(t, source, event({ person }));
    expect(res.status, res.text).toBe(202);
    return res.body.results[0].eventId as string;
  };

  it('#11.3 personReferences: a failed first merge is not cached; the next merge works', async () => {
    await book(personWith('REFA1'));
    await book(personWith('REFF1', {}, 'FBI_NUMBER'));

    // The first merge after boot loses its connection while reading the catalogue.
    const client = await t.db.connect();
    try {
      await client.query('BEGIN');
      let failed = false;
      const flaky: Queryable = {
        query: async <T>(sql: string, parameters?: unknown[]): Promise<T> => {
          if (!failed && sql.includes('pg_constraint')) {
            failed = true;
            throw new Error('Connection terminated unexpectedly');
          }
          return (await client.query(sql, parameters)).rows as T;
        },
      };
      await expect(t.app.get(IdentityResolver).resolve(flaky, source.sourceId, [joined('REFA1', 'REFF1')])).rejects.toThrow(
        'Connection terminated unexpectedly',
      );
      expect(failed).toBe(true);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }

    const res = await postEvents(t, source, event({ person: joined('REFA1', 'REFF1') }));
    expect(res.status, res.text).toBe(202);
    const { rows } = await t.db.query(
      `SELECT count(DISTINCT person_id)::int AS persons FROM person_identifier WHERE value IN ('REFA1', 'REFF1')`,
    );
    expect(rows[0].persons).toBe(1);
  });
});
