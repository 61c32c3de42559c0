import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const DEMO_FILE = 'demo.json';

export interface DemoPerson {
  identifiers: { system: string; value: string }[];
  firstName: string;
  lastName: string;
  dateOfBirth?: string;
}

/**
 * What the first-run demo made, kept beside the generated secrets: the demo source's key and
 * signing secret (so `demo:release` signs without anyone pasting them), the person it releases and
 * the victim registration whose manage page shows the alert.
 */
export interface DemoState {
  sourceId: string;
  apiKey: string;
  signingSecret: string;
  facility: { code: string; name: string };
  person: DemoPerson;
  /** Set once the people are booked and the registration exists; a start that stopped halfway finishes the rest. */
  registrationId?: string;
  manageToken?: string;
  language?: 'en' | 'es';
  /** Where the last start listened, for a `demo:release` run without PORT or PUBLIC_BASE_URL. */
  localBaseUrl?: string;
}

export function demoFile(dataDir: string): string {
  return path.join(path.resolve(dataDir), DEMO_FILE);
}

export function readDemoState(dataDir: string): DemoState | undefined {
  const file = demoFile(dataDir);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as DemoState;
}

/** Written whole and then renamed, owner-only like secrets.json: it holds a source's credentials. */
export function writeDemoState(dataDir: string, state: DemoState): void {
  const file = demoFile(dataDir);
  mkdirSync(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  chmodSync(partial, 0o600);
  renameSync(partial, file);
}
