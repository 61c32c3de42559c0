import type { Command } from 'commander';
import { DeliveryRepository } from '../../database/delivery.repository.js';
import { verifyAttemptChains } from '../../delivery/ledger.js';
import { LedgerService } from '../../delivery/ledger.service.js';
import { cliAction, cliCommand, CliFailure, type CliIo, processIo, UsageError, withExample } from '../cli-io.js';
import { type CliContext, loadCliConfig, withCli } from '../cli-runtime.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Dead deliveries are read in pages this size while retrying them all. */
const DEAD_PAGE = 200;

/** The delivery ledger: dead letters back into the queue, and the attempt chains' integrity. */
export function registerDeliveryCommands(program: Command, io: CliIo = processIo): void {
  withExample(
    cliCommand(program, io, 'deliveries:retry-dead')
      .description('Give dead deliveries a fresh round of attempts (as the admin API does); their ledger keeps the old attempts.')
      .argument('[deliveryIds...]', 'the dead deliveries to retry')
      .option('--all', 'retry every dead delivery')
      .action(
        cliAction(io, async (ids: string[], options: { all?: boolean }) => {
          if (Boolean(options.all) === ids.length > 0) throw new UsageError('Name the dead deliveries to retry, or give --all (not both).');
          const bad = ids.find((id) => !UUID.test(id));
          if (bad !== undefined) throw new UsageError(`Not a delivery id: ${bad}`);
          const { retried, missing } = await withCli(loadCliConfig(), async (cli) => {
            const ledger = ledgerService(cli);
            return options.all ? retryEveryDead(ledger, cli) : retryNamed(ledger, cli, ids);
          });
          io.out(`Retried ${retried} dead deliver${retried === 1 ? 'y' : 'ies'}.\n`);
          if (missing.length) throw new CliFailure(`Not dead (or no such delivery): ${missing.join(', ')}`);
        }),
      ),
    'npx vigil deliveries:retry-dead 0b6c9a9e-3f4e-4a43-9d5e-2b1f7c0e8a11',
    'npx vigil deliveries:retry-dead --all',
  );

  withExample(
    cliCommand(program, io, 'ledger:verify')
      .description("Check every delivery's attempt hash chain; exits 1 and names the deliveries whose chain is broken.")
      .action(
        cliAction(io, async () => {
          const { broken, attempts } = await withCli(loadCliConfig(), async (cli) => {
            const found = await verifyAttemptChains(cli.db);
            const [{ count }]: { count: string }[] = await cli.db.query(`SELECT count(*) FROM delivery_attempt`);
            return { broken: found, attempts: count };
          });
          if (broken.length)
            throw new CliFailure(`Ledger check FAILED: ${broken.length} deliveries have a broken chain:\n${broken.join('\n')}`);
          io.out(`Ledger check passed: ${attempts} attempts, every chain intact.\n`);
        }),
      ),
    'npx vigil ledger:verify',
  );
}

function ledgerService(cli: CliContext): LedgerService {
  return new LedgerService(cli.db, cli.cipher, cli.clock, new DeliveryRepository(cli.db), cli.audit);
}

async function retryNamed(ledger: LedgerService, cli: CliContext, ids: string[]): Promise<{ retried: number; missing: string[] }> {
  const missing: string[] = [];
  for (const id of ids) {
    try {
      await ledger.retryDead(id, cli.by);
    } catch (error) {
      if ((error as { code?: string }).code !== 'DEAD_DELIVERY_NOT_FOUND') throw error;
      missing.push(id);
    }
  }
  return { retried: ids.length - missing.length, missing };
}

/**
 * Page by page until a page holds nothing already seen: a retried delivery that dies again while
 * this runs is not retried twice, and the loop ends.
 */
async function retryEveryDead(ledger: LedgerService, cli: CliContext): Promise<{ retried: number; missing: string[] }> {
  const seen = new Set<string>();
  let retried = 0;
  for (;;) {
    const page = (await ledger.dead(DEAD_PAGE)).map((row) => row.deliveryId).filter((id) => !seen.has(id));
    if (!page.length) return { retried, missing: [] };
    for (const id of page) seen.add(id);
    retried += (await retryNamed(ledger, cli, page)).retried;
  }
}
