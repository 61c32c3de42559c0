import type { Command } from 'commander';
import { runRetention, type RetentionRun } from '../../retention/retention.js';
import { loadCliConfig, print, withCli, withExample } from '../cli-runtime.js';

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
export function registerRetentionCommands(program: Command): void {
  withExample(
    program
      .command('retention:run')
      .description(
        'Erase the personal data of registrations ended RETENTION_DAYS ago, and clear event payloads older than EVENT_PAYLOAD_RETENTION_DAYS',
      )
      .option('--dry-run', 'count what would go, change nothing')
      .action(async (options: { dryRun?: boolean }) => {
        const run = await withCli(loadCliConfig(), (cli) =>
          runRetention(cli.db, cli.config.retention, cli.clock, { dryRun: options.dryRun, by: cli.by }),
        );
        print(describeRetentionRun(run));
        if (!run.ran && run.reason === 'locked') process.exitCode = 2;
      }),
    'npx vigil retention:run --dry-run',
    'npx vigil retention:run',
  );
}
