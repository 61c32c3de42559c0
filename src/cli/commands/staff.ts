import { isEmail } from 'class-validator';
import type { Command } from 'commander';
import { StaffService } from '../../auth/staff.service.js';
import { RateLimiter } from '../../common/rate-limiter.service.js';
import { type CliContext, CliFailure, loadCliConfig, print, UsageError, withCli, withExample } from '../cli-runtime.js';
import { choosePassword, PASSWORD_ENV } from '../password-input.js';

const PASSWORD_SOURCES = `The password comes from ${PASSWORD_ENV}, else a prompt without echo in a terminal, else Vigil makes one and prints it once.`;

/** Staff accounts, for when nobody can sign in to the console (a forgotten admin password, a leaver's account). */
export function registerStaffCommands(program: Command): void {
  withExample(
    program
      .command('admin:create')
      .description(`Create an admin account. ${PASSWORD_SOURCES}`)
      .argument('<email>', "the admin's sign-in email")
      .action(async (email: string) => {
        const address = staffEmail(email);
        const config = loadCliConfig();
        const { password, generated } = await choosePassword();
        const created = await withCli(config, (cli) => staffService(cli).create(address, password, 'admin', cli.by));
        print(`Created admin ${created.email} (${created.staffId}).`);
        if (generated) printOnce(password);
      }),
    'npx vigil admin:create admin@example.org',
    `${PASSWORD_ENV}='a long passphrase' npx vigil admin:create admin@example.org`,
  );

  withExample(
    program
      .command('admin:reset-password')
      .description(`Set a new password for a staff member and end their sessions and tokens. ${PASSWORD_SOURCES}`)
      .argument('<email>', "the staff member's sign-in email")
      .action(async (email: string) => {
        const address = staffEmail(email);
        const config = loadCliConfig();
        const { password, generated } = await choosePassword();
        await withCli(config, async (cli) => {
          const staff = staffService(cli);
          await staff.resetPassword(await staffId(staff, address), cli.by, password);
        });
        print(`Password reset for ${address}; their sessions and tokens have ended.`);
        if (generated) printOnce(password);
      }),
    'npx vigil admin:reset-password admin@example.org',
  );

  withExample(
    program
      .command('staff:disable')
      .description('Disable a staff account: its sessions and tokens end at once. The last active admin cannot be disabled.')
      .argument('<email>', "the staff member's sign-in email")
      .action(async (email: string) => {
        const address = staffEmail(email);
        await withCli(loadCliConfig(), async (cli) => {
          const staff = staffService(cli);
          await staff.setDisabled(await staffId(staff, address), true, cli.by);
        });
        print(`Disabled ${address}.`);
      }),
    'npx vigil staff:disable leaver@example.org',
  );
}

function staffService(cli: CliContext): StaffService {
  return new StaffService(cli.db, cli.audit, new RateLimiter(cli.db, cli.clock, cli.config));
}

/** As the API stores it: trimmed and lower-cased. */
function staffEmail(value: string): string {
  const email = value.trim().toLowerCase();
  if (email.length > 254 || !isEmail(email)) throw new UsageError('That is not an email address.');
  return email;
}

async function staffId(staff: StaffService, email: string): Promise<string> {
  const member = await staff.findByEmailWithHash(email);
  if (!member) throw new CliFailure('No staff member has that email.');
  return member.id;
}

function printOnce(password: string): void {
  print(`Password (shown this once; hand it over, then sign in and keep it safe): ${password}`);
}
