import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { register } from '../support/registrations.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

interface Registered {
  registrationId: string;
  manageToken: string;
}

/** Ids, tokens, masked addresses and instants differ between any two registrations; everything else must not. */
const VARYING = new Set([
  'registrationId',
  'manageToken',
  'personId',
  'contactId',
  'notificationId',
  'eventId',
  'deliveryId',
  'address',
  'createdAt',
  'occurredAt',
  'startedAt',
  'finishedAt',
  'providerMessageId',
]);
const comparable = (body: unknown) =>
  JSON.parse(JSON.stringify(body, (key, value: unknown) => (VARYING.has(key) ? '…' : value))) as unknown;

describe('a protected person, as their registrants see it (#11.9)', () => {
  let t: TestApp;
  let source: TestSource;
  let specialist: string;
  // A: becomes protected. B: loses its only custody event to a correction (no custody information to show).
  const A = personWith('PROT-A-1');
  const B = personWith('PROT-B-1');
  const ids: Record<'A' | 'B', string> = { A: '', B: '' };
  const registered: Record<'A' | 'B', Registered> = {} as Record<'A' | 'B', Registered>;
  let bookingOfB: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '1000' } });
    source = await createSource(t);
    specialist = await t.staffToken('specialist');
    const bookings = { A: event({ person: A }), B: event({ person: B }) };
    bookingOfB = bookings.B.sourceEventId as string;
    for (const who of ['A', 'B'] as const) {
      const res = await postEvents(t, source, bookings[who]);
      expect(res.status).toBe(202);
      const { rows } = await t.db.query(`SELECT person_id FROM custody_event WHERE id = $1`, [res.body.results[0].eventId]);
      ids[who] = rows[0].person_id as string;
      const enrolled = await t
        .http()
        .post('/v1/enrollments')
        .set('Authorization', `Bearer ${specialist}`)
        .send({
          personId: ids[who],
          language: 'en',
          contacts: [{ channel: 'email', address: `victim.of.${who.toLowerCase()}@example.org` }],
        });
      expect(enrolled.status).toBe(201);
      registered[who] = enrolled.body;
    }
    // Both registrants hear of a hearing, while each person still has custody information.
    for (const person of [A, B]) {
      const hearing = event({ person, type: 'HEARING_SCHEDULED', scheduledFor: '2027-01-15T15:00:00Z' });
      expect((await postEvents(t, source, hearing)).status).toBe(202);
    }
    await t.app.get(DispatcherService).drain();
  });
  afterAll(() => t.close());

  const view = (who: 'A' | 'B') =>
    t.http().get(`/v1/registrations/${registered[who].registrationId}`).set('Authorization', `Bearer ${registered[who].manageToken}`);
  const ledger = (who: 'A' | 'B') =>
    t
      .http()
      .get(`/v1/registrations/${registered[who].registrationId}/notifications`)
      .set('Authorization', `Bearer ${registered[who].manageToken}`);
  const registerAgain = (who: 'A' | 'B') =>
    register(t, { personId: ids[who], language: 'en', contacts: [{ channel: 'email', address: 'again@example.org' }] });
  const search = (person: Record<string, unknown>) =>
    t
      .http()
      .get('/v1/people')
      .query({ identifierSystem: 'A_NUMBER', identifier: (person.identifiers as { value: string }[])[0].value });

  it('#11.9 a protected person answers exactly as a person with no custody information to show', async () => {
    const correction = event({
      person: B,
      type: 'CORRECTION',
      details: { correctsSourceEventId: bookingOfB, reason: 'booked in error' },
    });
    expect((await postEvents(t, source, correction)).status).toBe(202);
    // A is released just before the protection: its alert is still waiting when the protection comes.
    expect((await postEvents(t, source, event({ person: A, type: 'RELEASED' }))).status).toBe(202);
    const protect = await t
      .http()
      .put(`/v1/admin/people/${ids.A}/protection`)
      .set('Authorization', `Bearer ${await t.adminToken()}`)
      .send({ protected: true, reason: 'court order' });
    expect(protect.status).toBe(200);
    // And escapes after it: recorded, never alerted, never shown.
    expect((await postEvents(t, source, event({ person: A, type: 'ESCAPED' }))).status).toBe(202);
    await t.app.get(DispatcherService).drain();

    const [viewA, viewB] = [await view('A'), await view('B')];
    expect([viewA.status, viewB.status]).toEqual([200, 200]);
    expect(comparable(viewA.body)).toEqual(comparable(viewB.body));
    expect(viewA.body.person).toEqual({ displayName: 'John Doe', custodyStatus: 'UNKNOWN', facility: null });

    const [ledgerA, ledgerB] = [await ledger('A'), await ledger('B')];
    expect([ledgerA.status, ledgerB.status]).toEqual([200, 200]);
    expect(comparable(ledgerA.body)).toEqual(comparable(ledgerB.body));
    expect(ledgerA.body.notifications.map((n: { eventType: string }) => n.eventType)).toEqual(['HEARING_SCHEDULED']);

    const [againA, againB] = [await registerAgain('A'), await registerAgain('B')];
    expect(againA.status).toBe(againB.status);
    expect(againA.body).toEqual(againB.body);

    const [foundA, foundB] = [await search(A), await search(B)];
    expect([foundA.status, foundB.status]).toEqual([200, 200]);
    expect(foundA.body).toEqual(foundB.body);
    expect(foundA.body.people).toEqual([]);

    // And nothing was ever sent about A after the protection: the waiting alert was withheld, the escape never planned.
    const { rows } = await t.db.query(
      `SELECT e.type, d.status, count(a.*)::int AS accepted FROM custody_event e JOIN notification n ON n.event_id = e.id
       JOIN delivery d ON d.notification_id = n.id LEFT JOIN delivery_attempt a ON a.delivery_id = d.id AND a.outcome = 'accepted'
       WHERE e.person_id = $1 AND e.type IN ('RELEASED', 'ESCAPED') GROUP BY e.type, d.status`,
      [ids.A],
    );
    expect(rows).toEqual([{ type: 'RELEASED', status: 'suppressed', accepted: 0 }]);
  });

  it('#11.9 an alert that failed inside Vigil before the protection (no provider ever had it) is left out of the ledger too', async () => {
    const C = personWith('PROT-C-1');
    const booked = await postEvents(t, source, event({ person: C }));
    const { rows: person } = await t.db.query(`SELECT person_id FROM custody_event WHERE id = $1`, [booked.body.results[0].eventId]);
    const enrolled = await t
      .http()
      .post('/v1/enrollments')
      .set('Authorization', `Bearer ${specialist}`)
      .send({ personId: person[0].person_id, language: 'en', contacts: [{ channel: 'email', address: 'victim.of.c@example.org' }] });
    expect(enrolled.status).toBe(201);
    // Its address no longer decrypts: the release alert fails inside Vigil, an attempt with no provider call.
    await t.db.query(`UPDATE contact SET address = 'v2.x.broken' WHERE registration_id = $1`, [enrolled.body.registrationId]);
    expect((await postEvents(t, source, event({ person: C, type: 'RELEASED' }))).status).toBe(202);
    await t.app.get(DispatcherService).drain();
    const { rows: attempts } = await t.db.query(
      `SELECT a.error_class FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id JOIN contact c ON c.id = d.contact_id
       WHERE c.registration_id = $1`,
      [enrolled.body.registrationId],
    );
    expect(attempts).toEqual([{ error_class: 'cipher' }]);
    const protect = await t
      .http()
      .put(`/v1/admin/people/${person[0].person_id}/protection`)
      .set('Authorization', `Bearer ${await t.adminToken()}`)
      .send({ protected: true, reason: 'court order' });
    expect(protect.status).toBe(200);
    const ledger = await t
      .http()
      .get(`/v1/registrations/${enrolled.body.registrationId}/notifications`)
      .set('Authorization', `Bearer ${enrolled.body.manageToken}`);
    expect(ledger.status).toBe(200);
    expect(ledger.body.notifications).toEqual([]);
  });
});
