import { temporaryPassword } from '../auth/temporary-password.js';
import { CliFailure, type CliIo, UsageError } from './cli-io.js';
import { promptHidden } from './hidden-prompt.js';

export const PASSWORD_ENV = 'VIGIL_PASSWORD';
const MIN_LENGTH = 12;
const MAX_LENGTH = 1024;

/**
 * A password never comes from the command line (shell history, `ps`): from VIGIL_PASSWORD, else a
 * prompt without echo when a person is at the terminal, else Vigil makes one (`generated`), which
 * the command prints once.
 */
export async function choosePassword(io: CliIo): Promise<{ password: string; generated: boolean }> {
  const fromEnv = io.env[PASSWORD_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return { password: checked(fromEnv, PASSWORD_ENV), generated: false };
  if (!io.stdinIsTty) return { password: temporaryPassword(), generated: true };
  io.err('Leave the password empty to have Vigil make one.\n');
  const first = await promptHidden('New password: ');
  if (first === '') return { password: temporaryPassword(), generated: true };
  checked(first, 'The password');
  if ((await promptHidden('Repeat it: ')) !== first) throw new CliFailure('The two passwords differ; nothing was changed.');
  return { password: first, generated: false };
}

function checked(password: string, what: string): string {
  if (password.length < MIN_LENGTH) throw new UsageError(`${what} must be at least ${MIN_LENGTH} characters.`);
  if (password.length > MAX_LENGTH) throw new UsageError(`${what} must be at most ${MAX_LENGTH} characters.`);
  return password;
}
