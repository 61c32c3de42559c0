import pg from 'pg';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookPerson } from '../support/registrations.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Most people in custody have nobody registered for them. Their events are recorded, and their status
 * moved, without the planning statement: the events' INSERT says which events may reach anyone, seen
 * after this transaction's merges, so an event for a registered person (or one a merge just made
 * registered) is still planned in the same transaction.
 */
describe('#12 planning only events that may reach someone', () => {
  let t: TestApp;
  let source: TestSource;
  let specialist: string;
  const sent: string[] = [];
  let counting = false;
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const query = prototype.query;

  beforeAll(async () => {
    t = await startTestApp();
    source = await createSource(t);
    specialist = await t.staffToken('specialist');
    // Every statement the app's pg clients send while a test counts (the app runs in this process).
    prototype.query = function (this: unknown, ...args: unknown[]) {
      const config = args[0] as string | { text?: string };
      if (counting) sent.push(typeof config === 'string' ? config : (config?.text ?? ''));
      return query.apply(this, args);
    };
  });
  afterAll(async () => {
    prototype.query = query;
    await t.close();
  });

  const planningStatements = () => sent.filter((text) => text.includes('INSERT INTO notification') || text.includes('enable_memoize'));

  async function counted(body: unknown) {
    sent.length = 0;
    counting = true;
    try {
      const res = await postEvents(t, source, body);
      expect(res.status, res.text).toBe(202);
      return res.body.results as { eventId: string; status: string; notificationsPlanned: number }[];
    } finally {
      counting = false;
    }
  }

  async function enrol(personId: string, address: string): Promise<void> {
    const res = await t
      .http()
      .post('/v1/enrollments')
      .set('Authorization', `Bearer ${specialist}`)
      .send({ personId, language: 'en', contacts: [{ channel: 'email', address }] });
    expect(res.status, res.text).toBe(201);
  }

  it('#12 an event about a person nobody is registered for is recorded and moves the status without a planning statement', async () => {
    const [result] = await counted(event({ person: personWith('SKIP-NEW-1'), type: 'BOOKED' }));
    expect(result).toMatchObject({ status: 'accepted', notificationsPlanned: 0 });
    expect(planningStatements()).toEqual([]);

    const personId = await bookPerson(t, source, 'SKIP-KNOWN-1');
    const [released] = await counted(event({ person: personWith('SKIP-KNOWN-1'), type: 'RELEASED' }));
    expect(released.notificationsPlanned).toBe(0);
    expect(planningStatements()).toEqual([]);
    const { rows } = await t.db.query(`SELECT custody_status FROM person WHERE id = $1`, [personId]);
    expect(rows[0].custody_status).toBe('RELEASED');
  });

  it('#12 in a batch, the event about a registered person is planned and alerts; its unregistered neighbours are not planned', async () => {
    const personId = await bookPerson(t, source, 'SKIP-REG-1');
    await enrol(personId, 'skip-reg-1@example.org');
    const results = await counted({
      events: [
        event({ person: personWith('SKIP-NOBODY-2'), type: 'RELEASED' }),
        event({ person: personWith('SKIP-REG-1'), type: 'RELEASED' }),
        event({ person: personWith('SKIP-NOBODY-3'), type: 'RELEASED' }),
      ],
    });
    expect(results.map((r) => r.notificationsPlanned)).toEqual([0, 1, 0]);
    expect(planningStatements().filter((text) => text.includes('INSERT INTO notification'))).toHaveLength(1);
    const { rows } = await t.db.query(
      `SELECT n.event_id FROM notification n JOIN delivery d ON d.notification_id = n.id WHERE n.event_id = ANY($1::uuid[])`,
      [results.map((r) => r.eventId)],
    );
    expect(rows.map((row) => row.event_id)).toEqual([results[1].eventId]);
  });

  it('#12 an event that merges an unregistered record with a registered one is planned for the registration the merge brings', async () => {
    // The older record survives a merge, so the registration moves to the unregistered one, in the event's own transaction.
    const older = await bookPerson(t, source, 'SKIP-MERGE-OLD');
    const younger = await bookPerson(t, source, 'SKIP-MERGE-YOUNG');
    await enrol(younger, 'skip-merge@example.org');
    const [result] = await counted(
      event({
        type: 'RELEASED',
        person: {
          identifiers: [
            { system: 'A_NUMBER', value: 'SKIP-MERGE-OLD' },
            { system: 'A_NUMBER', value: 'SKIP-MERGE-YOUNG' },
          ],
          firstName: 'John',
          lastName: 'Doe',
        },
      }),
    );
    expect(result.notificationsPlanned).toBe(1);
    const { rows } = await t.db.query(`SELECT person_id FROM custody_event WHERE id = $1`, [result.eventId]);
    expect(rows[0].person_id).toBe(older);
  });

  it('#12 a CORRECTION is planned whoever its person is: it goes to those the corrected alert reached', async () => {
    const personId = await bookPerson(t, source, 'SKIP-CORR-1');
    await enrol(personId, 'skip-corr-1@example.org');
    const wrong = event({ person: personWith('SKIP-CORR-1'), type: 'RELEASED' });
    const [released] = await counted(wrong);
    expect(released.notificationsPlanned).toBe(1);
    // Sent (the dev outbox accepts it), so the correction is owed to this contact.
    expect(await t.app.get(DispatcherService).drain()).toBeGreaterThan(0);
    const [correction] = await counted(
      event({ person: personWith('SKIP-CORR-OTHER'), type: 'CORRECTION', details: { correctsSourceEventId: wrong.sourceEventId } }),
    );
    expect(correction.notificationsPlanned).toBe(1);
  });
});
