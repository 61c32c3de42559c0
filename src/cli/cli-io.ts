import { type Command, CommanderError } from 'commander';
import { DomainError } from '../common/problem/domain-error.js';
import { ConfigError } from '../config/app-config.js';

/** Where a command writes and how it ends; tests pass their own to read the output and the exit code. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  stdinIsTty: boolean;
  /** Never returns in a real run. */
  exit: (code: number) => never;
}

export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  env: process.env,
  stdinIsTty: Boolean(process.stdin.isTTY),
  exit: (code) => process.exit(code),
};

/**
 * sysexits-style codes, as main.ts exits 78 on bad configuration: 0 done (for event:send, the
 * server took it), 1 failed or refused, 2 the command line was wrong, 75 try again later.
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, tempfail: 75, config: 78 } as const;

/** Bad input that commander could not see (an argument's shape): exits 2, like commander's own. */
export class UsageError extends Error {}

/** An expected failure, said in one line: exits 1. */
export class CliFailure extends Error {}

/**
 * A subcommand that writes through `io` and ends through `io.exit`, commander's own errors
 * (unknown option, missing argument) included, so a test can run it in-process.
 */
export function cliCommand(program: Command, io: CliIo, name: string): Command {
  return program
    .command(name)
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride((error) => io.exit(commanderExit(error)));
}

/** A command's help ends with an example, so `vigil <command> --help` shows how it is called. */
export function withExample(command: Command, ...examples: string[]): Command {
  return command.addHelpText('after', `\nExample${examples.length > 1 ? 's' : ''}:\n${examples.map((line) => `  $ ${line}`).join('\n')}\n`);
}

/** A command's action: exits with the code it returns (0 when none), or with the one for what it threw. */
export function cliAction<A extends unknown[]>(io: CliIo, work: (...args: A) => Promise<number | void>): (...args: A) => Promise<never> {
  return async (...args) => {
    let code: number;
    try {
      code = (await work(...args)) ?? EXIT.ok;
    } catch (error) {
      code = reportError(io, error);
    }
    return io.exit(code);
  };
}

/** One line on stderr and the exit code for it; no stack, no values bound to a failed query. */
export function reportError(io: CliIo, error: unknown): number {
  if (error instanceof CommanderError) return commanderExit(error); // commander has printed it
  if (error instanceof ConfigError) {
    io.err(`Vigil cannot run this command. ${error.message}\nSee .env.example for every setting.\n`);
    return EXIT.config;
  }
  if (error instanceof UsageError) {
    io.err(`error: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof DomainError) {
    io.err(`error: ${error.message} (${error.code})\n`);
    return EXIT.failure;
  }
  const message = error instanceof Error ? error.message || (error as NodeJS.ErrnoException).code || error.name : String(error);
  io.err(`error: ${error instanceof CliFailure ? message : message.split('\n')[0]}\n`);
  return EXIT.failure;
}

/** Help and version end 0; every other commander error is a mistake in the command line. */
function commanderExit(error: CommanderError): number {
  return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
}
