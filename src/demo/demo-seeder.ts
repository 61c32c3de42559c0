import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BootstrapAdminService } from '../auth/bootstrap-admin.service.js';
import { StaffService } from '../auth/staff.service.js';
import { Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app-config.js';
import { PeopleService } from '../people/people.service.js';
import { RegistrationsService } from '../registrations/registrations.service.js';
import { SourcesService } from '../sources/sources.service.js';
import { sourceHeaders } from '../cli/source-client.js';
import { type DemoPerson, type DemoState, readDemoState, writeDemoState } from './demo-state.js';

export const DEMO_SOURCE_NAME = 'Demo jail feed';
const DEMO_FACILITY = { code: 'DEMO-1', name: 'Demo County Jail' };
/** Fictitious people; the first is the one the demo victim registered for and `demo:release` releases. */
const DEMO_PEOPLE: DemoPerson[] = [
  { identifiers: [{ system: 'STATE_ID', value: 'DEMO-0001' }], firstName: 'Alex', lastName: 'Demo', dateOfBirth: '1985-04-12' },
  { identifiers: [{ system: 'STATE_ID', value: 'DEMO-0002' }], firstName: 'Sam', lastName: 'Sample', dateOfBirth: '1979-11-03' },
  { identifiers: [{ system: 'STATE_ID', value: 'DEMO-0003' }], firstName: 'Rita', lastName: 'Ejemplo', dateOfBirth: '1992-07-21' },
];
/** Reserved for examples (example.org) and fictional use (555-01xx): nothing real can be reached. */
const DEMO_CONTACTS = [
  { channel: 'email' as const, address: 'victima.demo@example.org' },
  { channel: 'sms' as const, address: '+17135550100' },
];
const DEMO_LANGUAGE = 'es';
const DAY_MS = 86_400_000;

export interface SeededDemo {
  state: DemoState & { registrationId: string; manageToken: string };
  /** False when an earlier start seeded it. */
  created: boolean;
}

/**
 * The first-run demo, made the way real data arrives: a source created as an admin would, its
 * people booked by a signed POST to the API, and the victim enrolled with verified contacts, so an
 * event the demo source sends goes through matching, planning and dispatch to the dev outbox.
 * Seeded once: the state file in DATA_DIR records each finished step, and a database that already
 * has sources of its own is not a first run.
 */
export async function seedDemo(app: NestFastifyApplication, config: AppConfig): Promise<SeededDemo | undefined> {
  if (!config.demo || config.role === 'worker') return undefined;
  const dataDir = config.database.dataDir;
  let state = readDemoState(dataDir);
  let created = false;
  if (!state) {
    const sources = app.get(SourcesService);
    if ((await sources.list()).length) return undefined;
    const admin = await adminPrincipal(app);
    const source = await sources.create(
      { name: DEMO_SOURCE_NAME, facilityCodes: [DEMO_FACILITY.code], signingRequired: true },
      { staff: admin },
    );
    state = { ...source, facility: DEMO_FACILITY, person: DEMO_PEOPLE[0], language: DEMO_LANGUAGE };
    writeDemoState(dataDir, state);
    created = true;
  }
  if (!state.registrationId || !state.manageToken) {
    await bookPeople(app, state);
    const [identifier] = state.person.identifiers;
    const [person] = await app.get(PeopleService).search({ identifierSystem: identifier.system, identifier: identifier.value });
    if (!person) throw new Error('the demo person was booked but cannot be found');
    const registration = await app
      .get(RegistrationsService)
      .create(
        { personId: person.personId, language: state.language ?? DEMO_LANGUAGE, contacts: DEMO_CONTACTS, registrantName: 'Demo victim' },
        { staff: await adminPrincipal(app) },
      );
    state = { ...state, registrationId: registration.registrationId, manageToken: registration.manageToken };
    writeDemoState(dataDir, state);
    created = true;
  }
  return { state: state as SeededDemo['state'], created };
}

/** Remembers where this start listens, so `demo:release` finds it without being told. */
export function recordDemoAddress(config: AppConfig, localBaseUrl: string): void {
  const state = readDemoState(config.database.dataDir);
  if (state && state.localBaseUrl !== localBaseUrl) writeDemoState(config.database.dataDir, { ...state, localBaseUrl });
}

/** The lines `npm start` prints under the admin login; the manage link is a victim's secret, so never logged. */
export function demoInstructions(demo: SeededDemo, base: string): string {
  const language = demo.state.language ?? DEMO_LANGUAGE;
  return (
    `  Demo (DEMO=false turns it off): a signed demo jail feed, ${DEMO_PEOPLE.length} people in custody at ${demo.state.facility.name}, and one\n` +
    `  victim registered for one of them, in ${language === 'es' ? 'Spanish' : 'English'}, by email and SMS, both delivered to the dev outbox.\n` +
    '  Send a release from the demo feed:  npm run demo:release\n' +
    `  Then see the alert on the victim's page: ${base}/${language}/manage?token=${demo.state.manageToken}\n` +
    `  and in the dev outbox: GET ${base}/dev/outbox with the admin's token (POST ${base}/v1/auth/login),\n` +
    '  or the "message stored in the dev outbox" lines of this log.\n'
  );
}

async function adminPrincipal(app: NestFastifyApplication): Promise<{ staffId: string; email: string; role: 'admin' }> {
  const email = app.get(BootstrapAdminService).adminEmail;
  const admin = email ? await app.get(StaffService).findByEmailWithHash(email) : undefined;
  if (!admin || admin.role !== 'admin') throw new Error('the demo needs the bootstrap admin, and there is none');
  return { staffId: admin.id, email: admin.email, role: 'admin' };
}

/** Fixed event ids: a start that runs this again gets duplicates back, not second bookings. */
async function bookPeople(app: NestFastifyApplication, state: DemoState): Promise<void> {
  const now = app.get(Clock).now().getTime();
  const raw = JSON.stringify({
    events: DEMO_PEOPLE.map((person, index) => ({
      sourceEventId: `demo-booking-${index + 1}`,
      type: 'BOOKED',
      occurredAt: new Date(now - (index + 2) * DAY_MS).toISOString(),
      person,
      facility: state.facility,
    })),
  });
  const answer = await app.inject({ method: 'POST', url: '/v1/custody-events', headers: sourceHeaders(state, raw), payload: raw });
  if (answer.statusCode !== 202) throw new Error(`the demo bookings were refused with ${answer.statusCode}: ${answer.body}`);
}
