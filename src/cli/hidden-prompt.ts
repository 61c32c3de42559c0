import { CliFailure } from './cli-io.js';

/**
 * Asks on the terminal without echoing what is typed, so a key never shows on screen or in the
 * scrollback. Only for a TTY: a key must never be read from a pipe nobody is watching.
 */
export function promptHidden(
  question: string,
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stderr,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    // Echo off before the question shows: whatever is typed (or pasted) once it is visible stays hidden.
    input.setRawMode(true);
    output.write(question);
    input.resume();
    input.setEncoding('utf8');
    const finish = (error?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      output.write('\n');
      if (error) reject(error);
      else resolve(answer);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === '\u0004') return finish();
        if (char === '\u0003') return finish(new CliFailure('Cancelled; nothing was changed.'));
        if (char === '\u007f' || char === '\b') answer = answer.slice(0, -1);
        else answer += char;
      }
    };
    input.on('data', onData);
  });
}
