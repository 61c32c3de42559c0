import { randomUUID } from 'node:crypto';
import { type CliIo, EXIT } from '../cli/cli-io.js';
import { postCustodyEvents, VigilUnreachableError } from '../cli/source-client.js';
import { demoFile, readDemoState } from './demo-state.js';

export interface DemoReleaseOptions {
  /** Vigil's address; otherwise PUBLIC_BASE_URL, localhost:PORT, or where the last `npm start` listened. */
  url?: string;
}

/**
 * Sends a signed RELEASED event for the demo person from the demo source, exactly as a jail system
 * would. A person already out is first booked again in the same batch (one second earlier), so
 * every run is a real release with its own alert rather than a repeat the victim would doubt.
 */
export async function releaseDemo(io: CliIo, options: DemoReleaseOptions = {}): Promise<number> {
  const dataDir = io.env.DATA_DIR?.trim() || './.data';
  const state = readDemoState(dataDir);
  if (!state?.registrationId || !state.manageToken) {
    io.err(
      `No demo has been seeded in ${demoFile(dataDir)}.\n` +
        'Start Vigil once in embedded mode from this folder (npm start, with no DATABASE_URL and DEMO not false), then run this again.\n',
    );
    return EXIT.failure;
  }
  const base = vigilAddress(io.env, options.url, state.localBaseUrl);
  const [identifier] = state.person.identifiers;

  let status: string | undefined;
  try {
    status = await custodyStatus(base, identifier);
  } catch (error) {
    if (!(error instanceof VigilUnreachableError)) throw error;
    io.err(`${error.message}\nStart it with \`npm start\` in this folder (or pass --url), then run \`npm run demo:release\` again.\n`);
    return EXIT.failure;
  }
  if (status === undefined) {
    io.err(
      `The Vigil at ${base} does not know the demo person: it was not seeded from ${demoFile(dataDir)}.\n` +
        'Run demo:release with the same DATA_DIR (and PORT) as the `npm start` that printed the demo.\n',
    );
    return EXIT.failure;
  }

  const now = Date.now();
  const run = `${new Date(now).toISOString().replace(/[-:.]/g, '')}-${randomUUID().slice(0, 8)}`;
  const event = (type: string, at: number) => ({
    sourceEventId: `demo-${type.toLowerCase()}-${run}`,
    type,
    occurredAt: new Date(at).toISOString(),
    person: state.person,
    facility: state.facility,
  });
  const rebook = status !== 'IN_CUSTODY';
  const body = rebook ? { events: [event('BOOKED', now - 1000), event('RELEASED', now)] } : event('RELEASED', now);
  io.out(
    rebook
      ? `The demo person is ${status}: booking them again, then releasing them (two alerts).\n`
      : 'Releasing the demo person from the demo jail.\n',
  );
  io.out(`POST ${base}/v1/custody-events (signed with the demo source's key from ${demoFile(dataDir)})\n`);

  let answer;
  try {
    answer = await postCustodyEvents(base, state, JSON.stringify(body));
  } catch (error) {
    if (!(error instanceof VigilUnreachableError)) throw error;
    io.err(`${error.message}\n`);
    return EXIT.failure;
  }
  io.out(`${answer.status}\n${pretty(answer.body)}\n`);
  if (answer.status < 200 || answer.status >= 300) return EXIT.failure;
  const language = state.language ?? 'en';
  io.out(
    `\nThe alert is on its way (the worker sends within seconds). See it:\n` +
      `  on the victim's page: ${base}/${language}/manage?token=${state.manageToken}\n` +
      `  in the dev outbox: GET ${base}/dev/outbox with the admin's token, or the "message stored in the dev outbox" log lines.\n`,
  );
  return EXIT.ok;
}

export function vigilAddress(env: NodeJS.ProcessEnv, url?: string, recorded?: string): string {
  const chosen = url ?? env.PUBLIC_BASE_URL?.trim() ?? (env.PORT?.trim() ? `http://localhost:${env.PORT.trim()}` : recorded);
  return (chosen || 'http://localhost:3000').replace(/\/+$/, '');
}

/** The public search: the person's status, or undefined when this Vigil does not know them. */
async function custodyStatus(base: string, identifier: { system: string; value: string }): Promise<string | undefined> {
  const query = new URLSearchParams({ identifierSystem: identifier.system, identifier: identifier.value });
  let response: Response;
  try {
    response = await fetch(`${base}/v1/people?${query}`, { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new VigilUnreachableError(base, error);
  }
  if (!response.ok)
    throw new Error(`Vigil at ${base} answered the search for the demo person with ${response.status}: ${await response.text()}`);
  const found = (await response.json()) as { people: { custodyStatus: string }[] };
  return found.people[0]?.custodyStatus;
}

export function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}
