import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { type Command, InvalidArgumentError } from 'commander';
import { SourcesService } from '../../sources/sources.service.js';
import { CreateSourceDto, type SourceDto } from '../../sources/source.dto.js';
import { cliAction, cliCommand, CliFailure, type CliIo, processIo, UsageError, withExample } from '../cli-io.js';
import { type CliContext, loadCliConfig, withCli } from '../cli-runtime.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Upstream systems (jail management systems) and their API keys; keys are printed once and stored only as hashes. */
export function registerSourceCommands(program: Command, io: CliIo = processIo): void {
  withExample(
    cliCommand(program, io, 'source:create')
      .description('Register an upstream system; prints its API key and signing secret once.')
      .argument('<name>', 'a unique name, e.g. the jail management system')
      .option('--facility <code...>', 'facility codes it may report (default: any)')
      .option('--signing-required', 'refuse its requests unless signed (Standard Webhooks)')
      .option('--expected-interval <seconds>', 'the feed is stale once silent longer than this', wholeNumber)
      .action(
        cliAction(io, async (name: string, options: { facility?: string[]; signingRequired?: boolean; expectedInterval?: number }) => {
          const dto = await checkedSource({
            name,
            facilityCodes: options.facility,
            signingRequired: options.signingRequired ?? false,
            expectedIntervalSeconds: options.expectedInterval,
          });
          const created = await withCli(loadCliConfig(), (cli) => sourcesService(cli).create(dto, cli.by));
          io.out(`Created source ${dto.name} (${created.sourceId}).\n`);
          io.out('Shown this once; store them in the source system now:\n');
          io.out(`  API key:        ${created.apiKey}\n`);
          io.out(`  Signing secret: ${created.signingSecret}\n`);
        }),
      ),
    'npx vigil source:create "Harris County JMS" --facility HCJ-1 HCJ-2 --signing-required --expected-interval 900',
  );

  withExample(
    cliCommand(program, io, 'source:rotate-key')
      .description(
        'Issue a new API key for a source, printed once. Its other keys stop working within seconds (running servers trust a checked key for up to 5 s), unless --keep-old keeps the one active key beside the new.',
      )
      .argument('<source>', "the source's name or id")
      .option('--keep-old', 'keep the current key working too, to switch the feed over without a gap (at most two keys)')
      .action(
        cliAction(io, async (source: string, options: { keepOld?: boolean }) => {
          const { name, key, revoked } = await withCli(loadCliConfig(), async (cli) => {
            const sources = sourcesService(cli);
            const found = await findSource(sources, source);
            if (options.keepOld) return { name: found.name, key: await sources.addKey(found.sourceId, cli.by), revoked: 0 };
            const rotated = await sources.rotateKey(found.sourceId, cli.by);
            return { name: found.name, key: rotated, revoked: rotated.revokedKeyIds.length };
          });
          io.out(`New API key for ${name} (key ${key.keyId}), shown this once: ${key.apiKey}\n`);
          io.out(
            options.keepOld
              ? 'The old key still works; rotate again without --keep-old once the feed uses the new one.\n'
              : `Revoked ${revoked} old key(s).\n`,
          );
        }),
      ),
    'npx vigil source:rotate-key "Harris County JMS"',
    'npx vigil source:rotate-key "Harris County JMS" --keep-old',
  );

  withExample(
    cliCommand(program, io, 'source:list')
      .description('List sources with their active keys (prefixes only: no key or secret is shown).')
      .option('--json', 'print JSON')
      .action(
        cliAction(io, async (options: { json?: boolean }) => {
          const sources = await withCli(loadCliConfig(), (cli) => sourcesService(cli).list());
          if (options.json) return io.out(`${JSON.stringify(sources, null, 2)}\n`);
          if (!sources.length) io.out('No sources.\n');
          for (const source of sources) {
            io.out(`${source.name}  ${source.sourceId}\n`);
            io.out(
              `  facilities: ${source.facilityCodes?.join(', ') ?? 'any'}; signing ${source.signingRequired ? 'required' : 'optional'}; ` +
                `last contact: ${source.lastContactAt ?? 'never'}\n`,
            );
            for (const key of source.keys) io.out(`  key ${key.keyId}  ${key.prefix}…  created ${key.createdAt}\n`);
          }
        }),
      ),
    'npx vigil source:list',
  );
}

function sourcesService(cli: CliContext): SourcesService {
  return new SourcesService(cli.db, cli.cipher, cli.clock, cli.audit);
}

/** The API's own rules for a new source, so the command accepts what POST /v1/admin/sources accepts. */
async function checkedSource(body: Record<string, unknown>): Promise<CreateSourceDto> {
  const dto = plainToInstance(CreateSourceDto, body);
  const [error] = await validate(dto, { forbidUnknownValues: true });
  if (error) throw new UsageError(`${error.property}: ${Object.values(error.constraints ?? {}).join('; ') || 'is not valid'}`);
  return dto;
}

async function findSource(sources: SourcesService, nameOrId: string): Promise<SourceDto> {
  const all = await sources.list();
  const found = UUID.test(nameOrId)
    ? all.find((source) => source.sourceId === nameOrId.toLowerCase())
    : all.find((source) => source.name === nameOrId);
  if (!found) throw new CliFailure('No source has that name or id; `vigil source:list` shows them.');
  return found;
}

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('Give a whole number of seconds.');
  return Number(value);
}
