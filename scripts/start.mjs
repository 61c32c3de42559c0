// `npm start`: checks the Node version, builds only when the build is out of date (saying why), then
// runs Vigil and stops with it.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_OUTPUT, satisfiesMinimum, staleReason } from './build-state.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { engines } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
if (!satisfiesMinimum(process.versions.node, engines.node)) {
  process.stderr.write(`Vigil needs Node ${engines.node}; this is Node ${process.versions.node}. Install a newer Node (see README).\n`);
  process.exit(1);
}

const reason = staleReason(root);
if (reason) {
  process.stdout.write(`Building Vigil: ${reason}.\n`);
  let nest;
  try {
    nest = createRequire(import.meta.url).resolve('@nestjs/cli/bin/nest.js');
  } catch {
    process.stderr.write(
      'The build is out of date and @nestjs/cli is not installed: run npm ci (with dev dependencies), then npm start.\n',
    );
    process.exit(1);
  }
  const build = spawnSync(process.execPath, [nest, 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
} else {
  process.stdout.write('The build is current; starting Vigil.\n');
}

// Its own process group: Ctrl-C signals the whole foreground group, which would reach the embedded
// PostgreSQL too and stop it under requests still in flight. Vigil hears the signal once, from here,
// and stops the database itself after draining.
const app = spawn(process.execPath, ['--enable-source-maps', path.join(root, BUILD_OUTPUT)], {
  cwd: process.cwd(),
  stdio: 'inherit',
  detached: true,
});
// A closed terminal (SIGHUP) no longer reaches the app's own session: it is asked to stop as by SIGTERM.
for (const [heard, sent] of [
  ['SIGINT', 'SIGINT'],
  ['SIGTERM', 'SIGTERM'],
  ['SIGHUP', 'SIGTERM'],
]) {
  process.on(heard, () => {
    if (app.exitCode === null && app.signalCode === null) app.kill(sent);
  });
}
app.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
