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
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  stdinIsTty: Boolean(process.stdin.isTTY),
  exit: (code) => process.exit(code),
};

/** Exit codes: 0 the server took it (2xx), 1 it refused or could not be reached, 2 the command line was wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
