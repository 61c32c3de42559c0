import { expect } from 'vitest';
import { newStaff } from '../support/console.js';
import { bookPerson, register } from '../support/registrations.js';
import { enrol } from '../support/roster-people.js';
import { createSource, event, personWith, postEvents, putRoster } from '../support/sources.js';
import type { TestApp } from '../support/test-app.js';

/** What the seeded console shows: ids for the routes with parameters, and the specialist who owns the victim. */
export interface ConsoleSeed {
  specialist: { email: string; password: string };
  /** Enrolled by `specialist`, with a release alert that escalated: their timeline and list are not empty. */
  registrationId: string;
  /** The person that victim follows (in custody, neither protected nor a minor): enrolment opens on them. */
  personId: string;
  /** A public entry of the services directory. */
  serviceId: string;
  /** A protected person with a protection history, found on the protection page. */
  protectedIdentifier: string;
  /** A report period holding the seeded events. */
  reportFrom: string;
  reportTo: string;
}

export interface ConsolePage {
  /** The addresses to open for the route, with the seeded ids and a query that makes the page show data. */
  paths: (seed: ConsoleSeed) => string[];
  /** A selector the page must match at least once: proof the seeded data is on it, not an empty list. */
  shows: string;
  /** The page is for signed-out browsers (the login form; signed in, it sends to the dashboard). */
  signedOut?: boolean;
}

/*
 * ─── EVERY CONSOLE GET PAGE: ROUTE → WHAT TO OPEN AND WHAT IT MUST SHOW ──────────────────────────
 * The console suites (console.browser.e2e-spec.ts: axe in English and Spanish at two widths, and the
 * role checks) read the console's GET routes from the app's router and look each one up here, by
 * the router's pattern. A route missing from this map FAILS those suites by name; it is never
 * skipped. Adding a console page: add its route here, with the seeded ids its `:params` need and a
 * selector that proves its list is not empty, and seed that data in seedConsole below.
 */
export const CONSOLE_PAGES: Record<string, ConsolePage> = {
  '/console/login': { paths: () => ['/console/login'], shows: '#field-email', signedOut: true },
  '/console': { paths: () => ['/console/'], shows: '[data-count="deadDeliveries"]' },
  '/console/victims': { paths: () => ['/console/victims'], shows: 'li.escalated[data-registration-id]' },
  '/console/victims/:id': { paths: (s) => [`/console/victims/${s.registrationId}`], shows: '[data-event-type="RELEASED"]' },
  '/console/feeds': { paths: () => ['/console/feeds'], shows: 'tr[data-source-id]' },
  '/console/rosters': { paths: () => ['/console/rosters'], shows: '[data-snapshot-id]' },
  '/console/deliveries': { paths: () => ['/console/deliveries'], shows: 'tr[data-delivery-id]' },
  '/console/sources': { paths: () => ['/console/sources'], shows: '[data-key-id]' },
  '/console/facilities': { paths: () => ['/console/facilities'], shows: '[data-facility="HCJ-1"]' },
  '/console/people': {
    paths: (s) => [`/console/people?identifierSystem=A_NUMBER&identifier=${encodeURIComponent(s.protectedIdentifier)}`],
    shows: '[data-person-id]',
  },
  '/console/reports': { paths: (s) => [`/console/reports?from=${s.reportFrom}&to=${s.reportTo}`], shows: 'svg.report-chart' },
  '/console/staff': { paths: () => ['/console/staff'], shows: 'tr[data-staff-id]' },
  '/console/audit': { paths: () => ['/console/audit'], shows: 'tr[data-audit-id]' },
  '/console/escalations': { paths: () => ['/console/escalations'], shows: '[data-escalation-state="open"]' },
  '/console/enrol': { paths: () => ['/console/enrol?identifierSystem=A_NUMBER&identifier=A-880-000-001'], shows: '[data-person-id]' },
  '/console/enrol/:personId': { paths: (s) => [`/console/enrol/${s.personId}`], shows: '#field-sendConfirmation' },
  '/console/services': { paths: () => ['/console/services'], shows: '[data-service-id]' },
  '/console/services/new': { paths: () => ['/console/services/new'], shows: '#field-name' },
  '/console/services/:id/edit': { paths: (s) => [`/console/services/${s.serviceId}/edit`], shows: '#field-name' },
  '/console/victims/:id/stop': { paths: (s) => [`/console/victims/${s.registrationId}/stop`], shows: '#field-reason' },
};

const day = (date: Date) => date.toISOString().slice(0, 10);

/**
 * Data for every console page, made through the real API the way the exchange gets it: a source
 * and its events, a specialist's enrolment with an escalated release alert, a held roster diff, a
 * dead message, a facility's suppression history, a protected person, staff and their audit trail.
 */
export async function seedConsole(t: TestApp): Promise<ConsoleSeed> {
  const admin = await t.adminToken();
  const source = await createSource(t, { name: 'Console Seed County Jail', expectedIntervalSeconds: 60 });
  const specialist = await newStaff(t, 'specialist');
  const specialistToken = await t.loginAs(specialist.email, specialist.password);

  const followed = await bookPerson(t, source, 'A-880-000-001', { firstName: 'Ana', lastName: 'Semilla' });
  const registrationId = await enrol(t, specialistToken, followed, 'seeded-victim@example.org');
  const released = await postEvents(t, source, event({ type: 'RELEASED', person: personWith('A-880-000-001') }));
  expect(released.status, released.text).toBe(202);
  await t.db.query(`UPDATE notification SET escalated_at = now() WHERE registration_id = $1 AND urgent`, [registrationId]);
  await t.db.query(
    `INSERT INTO escalation (id, escalated_at) SELECT id, escalated_at FROM notification WHERE registration_id = $1 AND urgent`,
    [registrationId],
  );

  const people = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => personWith(`SEED-R-${from + i}`, { firstName: `P${from + i}`, lastName: 'Roster' }));
  await putRoster(t, source, 'SEED-R', { asOf: '2026-11-20T06:00:00Z', people: people(0, 60) });
  const held = await putRoster(t, source, 'SEED-R', { asOf: '2026-11-21T06:00:00Z', people: people(40, 60) });
  expect(held.body.held, 'the roster diff is held').toBe(true);

  const other = await bookPerson(t, source, 'A-880-000-002');
  const registered = await register(t, {
    personId: other,
    language: 'en',
    contacts: [{ channel: 'email', address: 'dead-seed@example.org' }],
  });
  expect(registered.status, registered.text).toBe(201);
  await t.db.query(`UPDATE delivery SET status = 'dead', last_error = 'smtp_550' WHERE contact_id = $1`, [
    registered.body.contacts[0].contactId,
  ]);

  for (const suppressed of [true, false]) {
    const res = await t
      .http()
      .put('/v1/admin/facilities/HCJ-1/suppression')
      .set('Authorization', `Bearer ${admin}`)
      .send({ suppressed, reason: suppressed ? 'Jail system maintenance run' : 'Maintenance over' });
    expect(res.status, res.text).toBe(200);
  }
  const protectedIdentifier = 'A-880-000-003';
  const hidden = await bookPerson(t, source, protectedIdentifier);
  const protectedRes = await t
    .http()
    .put(`/v1/admin/people/${hidden}/protection`)
    .set('Authorization', `Bearer ${admin}`)
    .send({ protected: true, reason: 'Court order' });
  expect(protectedRes.status, protectedRes.text).toBe(200);

  const service = await t
    .http()
    .post('/v1/admin/services')
    .set('Authorization', `Bearer ${admin}`)
    .send({ name: 'Seed County Victim Advocacy Center', kind: 'counselling', phone: '+17135550150', public: true });
  expect(service.status, service.text).toBe(201);

  const now = new Date();
  return {
    serviceId: service.body.serviceId,
    specialist,
    registrationId,
    personId: followed,
    protectedIdentifier,
    reportFrom: day(now),
    reportTo: day(new Date(now.getTime() + 86_400_000)),
  };
}

/** The address in the given language (`?lang=` switches the console and is remembered). */
export function inLang(path: string, lang: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}lang=${lang}`;
}
