import { isEmail } from 'class-validator';
import type { Command } from 'commander';
import { StaffService } from '../../auth/staff.service.js';
import { RateLimiter } from '../../common/rate-limiter.service.js';
import { cliAction, cliCommand, CliFailure, type CliIo, processIo, UsageError, withExample } from '../cli-io.js';
import { type CliContext, loadCliConfig, withCli } from '../cli-runtime.js';
import { choosePassword, PASSWORD_ENV } from '../password-input.js';

const PASSWORD_SOURCES = `The password comes from ${PASSWORD_ENV}, else a prompt without echo in a terminal, else Vigil makes one and prints it once.`;

/** Staff accounts, for when nobody can sign in to the console (a forgotten admin password, a leaver's account). */
export function registerStaffCommands(program: Command, io: CliIo = processIo): void {
  withExample(
    cliCommand(program, io, 'admin:create')
      .description(`Create an admin account. ${PASSWORD_SOURCES}`)
      .argument('<email>', "the admin's sign-in email")
      .action(
        cliAction(io, async (email: string) => {
          const address = staffEmail(email);
          const config = loadCliConfig();
          const { password, generated } = await choosePassword(io);
          const created = await withCli(config, (cli) => staffService(cli).create(address, password, 'admin', cli.by));
          io.out(`Created admin ${created.email} (${created.staffId}).\n`);
          if (generated) printOnce(io, password);
        }),
      ),
    'npx vigil admin:create admin@example.org',
    `${PASSWORD_ENV}='a long passphrase' npx vigil admin:create admin@example.org`,
  );

  withExample(
    cliCommand(program, io, 'admin:reset-password')
      .description(`Set a new password for a staff member and end their sessions and tokens. ${PASSWORD_SOURCES}`)
      .argument('<email>', "the staff member's sign-in email")
      .action(
        cliAction(io, async (email: string) => {
          const address = staffEmail(email);
          const config = loadCliConfig();
          const { password, generated } = await choosePassword(io);
          await withCli(config, async (cli) => {
            const staff = staffService(cli);
            await staff.resetPassword(await staffId(staff, address), cli.by, password);
          });
          io.out(`Password reset for ${address}; their sessions and tokens have ended.\n`);
          if (generated) printOnce(io, password);
        }),
      ),
    'npx vigil admin:reset-password admin@example.org',
  );

  withExample(
    cliCommand(program, io, 'staff:disable')
      .description('Disable a staff account: its sessions and tokens end at once. The last active admin cannot be disabled.')
      .argument('<email>', "the staff member's sign-in email")
      .action(
        cliAction(io, async (email: string) => {
          const address = staffEmail(email);
          await withCli(loadCliConfig(), async (cli) => {
            const staff = staffService(cli);
            await staff.setDisabled(await staffId(staff, address), true, cli.by);
          });
          io.out(`Disabled ${address}.\n`);
        }),
      ),
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

function printOnce(io: CliIo, password: string): void {
  io.out(`Password (shown this once; hand it over, then sign in and keep it safe): ${password}\n`);
}
