import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockWaiters } from '../support/lock-waiters.js';
import { ManualClock } from '../support/manual-clock.js';
import { bookPerson, register } from '../support/registrations.js';
import { createSource, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * A victim's sign-up and code requests chosen as a deadlock's victim run again instead of failing.
 * The deadlock is forced: a second connection holds the code-send counts (every code claims one),
 * the request waits for them while holding its own row, and the connection then asks for that row.
 */
describe('registration transactions that lose a deadlock', () => {
  let t: TestApp;
  let source: TestSource;
  const clock = new ManualClock(new Date());

  beforeAll(async () => {
    t = await startTestApp({ clock });
    source = await createSource(t);
  });
  afterAll(() => t.close());

  const verificationsOf = async (contactId: string) =>
    (await t.db.query(`SELECT count(*)::int AS n FROM delivery WHERE contact_id = $1 AND purpose = 'verification'`, [contactId])).rows[0]
      .n as number;

  const codeSends = async () =>
    (await t.db.query(`SELECT coalesce(sum(cardinality(sent_at)), 0)::int AS n FROM code_send`)).rows[0].n as number;

  /** Transactions run again after a deadlock, as logged. */
  const reruns = () => t.logs.filter((line) => line.includes('40P01') && line.includes('running it again')).length;

  /** Runs `request` into a deadlock with a connection that then wants `row` (a FOR UPDATE select); answers the request's response. */
  async function deadlocked<T>(request: () => Promise<T>, row: { table: 'person' | 'contact'; id: string }): Promise<T> {
    const other = await t.db.connect();
    try {
      await other.query('BEGIN');
      await other.query(`LOCK TABLE code_send IN SHARE MODE`);
      const answer = request();
      await lockWaiters(t.db, 1);
      // Waits for the request, which waits for us: PostgreSQL aborts the one that waited first (the request).
      await other.query(`SELECT 1 FROM ${row.table} WHERE id = $1 FOR UPDATE`, [row.id]);
      await other.query('ROLLBACK');
      return await answer;
    } finally {
      other.release();
    }
  }

  it('#11.3 deadlock retried: a registration chosen as the deadlock victim runs again, answers 201 and is stored once with one code', async () => {
    const personId = await bookPerson(t, source, 'RETRY-REG');
    const address = 'retry.registration@example.org';
    const res = await deadlocked(
      () => register(t, { personId, language: 'en', contacts: [{ channel: 'email', address: address }] }).then((r) => r),
      { table: 'person', id: personId },
    );
    expect(res.status, res.text).toBe(201);
    const { rows } = await t.db.query(`SELECT id FROM registration WHERE person_id = $1`, [personId]);
    expect(rows).toEqual([{ id: res.body.registrationId }]);
    expect(await verificationsOf(res.body.contacts[0].contactId)).toBe(1);
    expect(reruns()).toBe(1);
  });

  it('#11.3 deadlock retried: a verification code request chosen as the deadlock victim runs again, answers 202 and queues one new code', async () => {
    const personId = await bookPerson(t, source, 'RETRY-CODE');
    const created = await register(t, {
      personId,
      language: 'en',
      contacts: [{ channel: 'email', address: 'retry.code@example.org' }],
    });
    expect(created.status, created.text).toBe(201);
    const contactId = created.body.contacts[0].contactId as string;
    clock.advance(2 * 60_000);
    const before = reruns();
    const sendsBefore = await codeSends();

    const res = await deadlocked(
      () =>
        t
          .http()
          .post(`/v1/registrations/${created.body.registrationId}/contacts/${contactId}/resend-code`)
          .then((r) => r),
      { table: 'contact', id: contactId },
    );
    expect(res.status, res.text).toBe(202);
    expect(await verificationsOf(contactId)).toBe(2);
    // The rolled-back run's claim on the address's daily codes is gone with it.
    expect(await codeSends()).toBe(sendsBefore + 1);
    expect(reruns()).toBe(before + 1);
  });
});
