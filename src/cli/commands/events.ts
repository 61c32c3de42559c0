import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { pretty, releaseDemo, vigilAddress } from '../../demo/demo-release.js';
import { cliAction, cliCommand, type CliIo, EXIT, processIo, UsageError } from '../cli-io.js';
import { promptHidden } from '../hidden-prompt.js';
import { postCustodyEvents, VigilUnreachableError } from '../source-client.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface SendOptions {
  source: string;
  file: string;
  url?: string;
}

/**
 * `event:send` posts a custody event file as a source would (for a jail system's developer trying
 * the integration); `demo:release` releases the first-run demo's person. Keys come from the
 * environment or a prompt, never the command line, where shell history and `ps` would keep them.
 */
export function registerEventCommands(program: Command, io: CliIo = processIo): void {
  cliCommand(program, io, 'event:send')
    .description(
      'POST a custody event, or {"events":[...]}, from a JSON file to /v1/custody-events as a source. The API key comes from ' +
        'VIGIL_SOURCE_KEY (or a prompt on a terminal); with VIGIL_SIGNING_SECRET set the request is signed (Standard Webhooks). ' +
        'Prints the status and the answer; exits 0 on 2xx, 1 otherwise, 2 on a usage error.',
    )
    .requiredOption('--source <id>', "the source's id, as the console or POST /v1/admin/sources showed it")
    .requiredOption('--file <event.json>', 'the body to send, byte for byte')
    .option('--url <base>', "Vigil's address (default: PUBLIC_BASE_URL, else http://localhost:PORT)")
    .action(cliAction(io, (options: SendOptions) => sendEvent(io, options)));

  cliCommand(program, io, 'demo:release')
    .description(
      "Release the first-run demo's person: a signed RELEASED event from the demo source (its key is in DATA_DIR/demo.json), " +
        'whose alert lands in the dev outbox. Each run is a new release; a person already out is booked again first.',
    )
    .option('--url <base>', "Vigil's address (default: PUBLIC_BASE_URL, else http://localhost:PORT, else where npm start listened)")
    .action(cliAction(io, (options: { url?: string }) => releaseDemo(io, options)));
}

async function sendEvent(io: CliIo, options: SendOptions): Promise<number> {
  if (!UUID.test(options.source)) throw new UsageError(`--source must be the source's id (a UUID), not "${options.source}".`);
  let body: string;
  try {
    body = readFileSync(options.file, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read --file ${options.file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`);
  }
  const apiKey =
    io.env.VIGIL_SOURCE_KEY?.trim() || (io.stdinIsTty ? (await promptHidden(`API key of source ${options.source}: `)).trim() : '');
  if (!apiKey) throw new UsageError('Give the API key in VIGIL_SOURCE_KEY (it is never read from the command line).');
  const signingSecret =
    io.env.VIGIL_SIGNING_SECRET?.trim() ||
    (io.stdinIsTty && io.env.VIGIL_SIGNING_SECRET === undefined
      ? (await promptHidden('Signing secret (whsec_..., Enter to send unsigned): ')).trim()
      : '');
  const base = vigilAddress(io.env, options.url);
  try {
    const answer = await postCustodyEvents(base, { apiKey, signingSecret: signingSecret || undefined }, body);
    io.out(`${answer.status}\n${pretty(answer.body)}\n`);
    return answer.status >= 200 && answer.status < 300 ? EXIT.ok : EXIT.failure;
  } catch (error) {
    if (!(error instanceof VigilUnreachableError)) throw error;
    io.err(`${error.message}\n`);
    return EXIT.failure;
  }
}
