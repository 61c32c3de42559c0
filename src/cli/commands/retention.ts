import type { Command } from 'commander';
import { runRetention, type RetentionRun } from '../../retention/retention.js';
import { cliAction, cliCommand, type CliIo, EXIT, processIo, withExample } from '../cli-io.js';
import { loadCliConfig, withCli } from '../cli-runtime.js';

/** What a run did, for the operator: counts only. */
export function describeRetentionRun(run: RetentionRun): string {
  if (!run.ran) return run.reason === 'locked' ? 'Another retention run is in progress; nothing done.' : 'Retention already ran today.';
  const c = run.counts;
  return (
    `${run.dryRun ? 'Dry run, nothing changed. Would erase' : 'Erased'} ${c.registrations} registrations: ${c.contacts} contacts, ` +
    `${c.verificationCodes} verification codes, ${c.outboxMessages} dev outbox messages, ${c.serviceMessages} shared services, ` +
    `${c.escalationNotes} escalation notes, ${c.auditEntries} audit entries, ${c.attemptExcerpts} provider answers; ` +
    `${run.dryRun ? 'would clear' : 'cleared'} ${c.eventPayloads} event payloads.`
  );
}

/** `vigil retention:run [--dry-run]`: the daily retention run, now, under the same lock as the workers'. */
export function registerRetentionCommands(program: Command, io: CliIo = processIo): void {
  withExample(
    cliCommand(program, io, 'retention:run')
      .description(
        'Erase the personal data of registrations ended RETENTION_DAYS ago, and clear event payloads older than EVENT_PAYLOAD_RETENTION_DAYS',
      )
      .option('--dry-run', 'count what would go, change nothing')
      .action(
        cliAction(io, async (options: { dryRun?: boolean }) => {
          const run = await withCli(loadCliConfig(), (cli) =>
            runRetention(cli.db, cli.config.retention, cli.clock, { dryRun: options.dryRun, by: cli.by }),
          );
          io.out(`${describeRetentionRun(run)}\n`);
          // Not a failure of this run's own, nor a wrong command line: EX_TEMPFAIL tells a script to try later.
          return !run.ran && run.reason === 'locked' ? EXIT.tempfail : EXIT.ok;
        }),
      ),
    'npx vigil retention:run --dry-run',
    'npx vigil retention:run',
  );
}
