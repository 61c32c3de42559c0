import { randomUUID } from 'node:crypto';
import type { Lang } from '../../src/i18n/messages.js';
import { bookPerson, register } from '../support/registrations.js';
import { createSource } from '../support/sources.js';
import type { TestApp } from '../support/test-app.js';

/** What the pages need to show something real: a booked person and a registration for them. */
export interface PageFixture {
  personId: string;
  /** The identifier the person was booked under, for a search that finds them. */
  identifier: string;
  registrationId: string;
  manageToken: string;
}

export interface VictimPage {
  /** Names the page in test titles and screenshots (`<name>-<lang>-<width>.png`). */
  name: string;
  /** The page's address after `/{lang}/`. */
  path: (fixture: PageFixture) => string;
  /** Open the manage link first, so the page sees the victim's session (verify, manage). */
  session?: boolean;
}

/**
 * Every victim page the cross-cutting suites check (axe, screenshots, narrow screens, keyboard,
 * language switch). A new page is one line here.
 */
export const VICTIM_PAGES: VictimPage[] = [
  { name: 'search', path: () => '' },
  { name: 'results', path: (f) => `search?identifierSystem=A_NUMBER&identifier=${encodeURIComponent(f.identifier)}` },
  {
    name: 'search-errors',
    path: () => 'search?identifierSystem=A_NUMBER&identifier=&lastName=Quintero&firstName=&dateOfBirth=27%2F03%2F1990',
  },
  { name: 'help', path: () => 'help' },
  { name: 'not-found', path: () => 'no-such-page' },
  { name: 'register', path: (f) => `people/${f.personId}/register` },
  { name: 'verify', path: () => 'verify', session: true },
  { name: 'manage', path: () => 'manage', session: true },
  { name: 'manage-stop', path: () => 'manage/stop', session: true },
];

export const PAGE_LANGS: Lang[] = ['en', 'es'];

/** Books a person through the real ingestion API and registers for them through the real API. */
export async function createPageFixture(t: TestApp): Promise<PageFixture> {
  const source = await createSource(t);
  const identifier = 'A-555-010-020';
  const personId = await bookPerson(t, source, identifier, { firstName: 'Marco', lastName: 'Quintero' });
  const res = await register(t, {
    personId,
    language: 'en',
    pin: '2468',
    contacts: [{ channel: 'email', address: 'page.tests@example.org' }],
  });
  if (res.status !== 201) throw new Error(`registration answered ${res.status}: ${res.text}`);
  // The help page lists the services directory's public entries: one with every field, so the page checks see them all.
  const service = await t
    .http()
    .post('/v1/admin/services')
    .set('Authorization', `Bearer ${await t.adminToken()}`)
    .send({
      name: 'Casa Segura Emergency Shelter and Advocacy Services',
      kind: 'shelter',
      phone: '1-800-799-7233',
      website: 'https://www.casasegura.example.org/services/emergency-shelter-and-advocacy',
      languages: ['en', 'es', 'vi'],
      area: 'Harris County and surrounding counties',
      hours: '24 hours, every day',
      description: {
        en: 'Emergency shelter for survivors and their children.',
        es: 'Refugio de emergencia para sobrevivientes y sus hijos.',
      },
      public: true,
    });
  if (service.status !== 201) throw new Error(`the services directory answered ${service.status}: ${service.text}`);
  return { personId, identifier, registrationId: res.body.registrationId as string, manageToken: res.body.manageToken as string };
}

/** The manage link as it arrives in an alert: it sets the session cookie the session pages need. */
export function manageLink(lang: Lang, fixture: PageFixture): string {
  return `/${lang}/manage?token=${encodeURIComponent(fixture.manageToken)}`;
}

/** Path parameters of page routes, filled so a request reaches something real. */
export function fillParam(fixture: PageFixture): (param: string) => string {
  const known: Record<string, string> = { personId: fixture.personId, registrationId: fixture.registrationId, id: fixture.registrationId };
  return (param) => known[param] ?? randomUUID();
}
