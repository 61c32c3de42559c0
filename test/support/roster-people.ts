import { expect } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { normalizeIdentifierValue } from '../../src/people/identifiers.js';
import type { TestApp } from './test-app.js';

/** The person an identifier value names now, following a merge to its survivor. */
export async function personOf(t: TestApp, value: string): Promise<string> {
  const { rows } = await t.db.query(
    `SELECT coalesce(p.merged_into, p.id) AS id FROM person_identifier i JOIN person p ON p.id = i.person_id WHERE i.value = $1`,
    [normalizeIdentifierValue(value)],
  );
  return rows[0].id as string;
}

/** A person's custody status and facility code, as stored. */
export async function statusOf(t: TestApp, personId: string): Promise<{ custody_status: string; code: string | null }> {
  const { rows } = await t.db.query(
    `SELECT p.custody_status, f.code FROM person p LEFT JOIN facility f ON f.id = p.facility_id WHERE p.id = $1`,
    [personId],
  );
  return rows[0] as { custody_status: string; code: string | null };
}

/** A specialist enrols a victim for this person with one email contact; the registration id. */
export async function enrol(t: TestApp, specialistToken: string, personId: string, email: string): Promise<string> {
  const res = await t
    .http()
    .post('/v1/enrollments')
    .set('Authorization', `Bearer ${specialistToken}`)
    .send({ personId, language: 'en', contacts: [{ channel: 'email', address: email }] });
  expect(res.status, res.text).toBe(201);
  return res.body.registrationId as string;
}

/** How many notifications of each event type this registration got. */
export async function notifiedByType(t: TestApp, registrationId: string): Promise<Record<string, number>> {
  const { rows } = await t.db.query(
    `SELECT e.type, count(*)::int AS n FROM notification n JOIN custody_event e ON e.id = n.event_id
     WHERE n.registration_id = $1 GROUP BY e.type ORDER BY e.type`,
    [registrationId],
  );
  return Object.fromEntries(rows.map((row: { type: string; n: number }) => [row.type, row.n]));
}

/** Release alerts that reached this address, after the queue is drained. */
export async function releaseMails(t: TestApp, adminToken: string, email: string): Promise<number> {
  await t.app.get(DispatcherService).drain();
  const outbox = await t.http().get('/dev/outbox').set('Authorization', `Bearer ${adminToken}`);
  expect(outbox.status).toBe(200);
  return (outbox.body.messages as { to: string; subject: string | null; body: string }[]).filter(
    (m) => m.to === email && `${m.subject ?? ''} ${m.body ?? ''}`.includes('RELEASED'),
  ).length;
}
