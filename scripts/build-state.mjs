// What `npm start` asks before it runs: is the build in dist/ older than anything it is built from?
// Plain JavaScript, since it must run before there is a build.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** What the build reads: every file under these folders, and these files. */
const SOURCE_DIRS = ['src', 'migrations', 'bench'];
const SOURCE_FILES = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'nest-cli.json', 'node_modules/.package-lock.json'];
/** Written by every build (nest build empties dist first), so its time is the build's. */
export const BUILD_OUTPUT = 'dist/src/main.js';

/** Why the build in `root` must be made again, or undefined when it is current. */
export function staleReason(root) {
  const output = path.join(root, BUILD_OUTPUT);
  if (!existsSync(output)) return `there is no build yet (${BUILD_OUTPUT} is missing)`;
  const builtAt = statSync(output).mtimeMs;
  const newer = newestInputs(root).find((file) => file.mtimeMs > builtAt);
  return newer ? `${newer.name} changed since the last build` : undefined;
}

function newestInputs(root) {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) files.push({ name: path.relative(root, full), mtimeMs: statSync(full).mtimeMs });
    }
  };
  for (const dir of SOURCE_DIRS) if (existsSync(path.join(root, dir))) walk(path.join(root, dir));
  for (const file of SOURCE_FILES) {
    const full = path.join(root, file);
    if (existsSync(full)) files.push({ name: file, mtimeMs: statSync(full).mtimeMs });
  }
  return files.sort((a, b) => b.mtimeMs - a.mtimeMs);
}

/**
 * Whether `version` (process.versions.node) satisfies an engines range made of `>=major.minor.patch`
 * and `^major.minor.patch` alternatives joined by `||`, the forms the dependencies' own engines use.
 */
export function satisfiesMinimum(version, range) {
  const have = version.split('.').map(Number);
  return range.split('||').some((alternative) => {
    const wanted = /^(>=|\^)\s*(\d+)\.(\d+)\.(\d+)$/.exec(alternative.trim());
    if (!wanted) throw new Error(`engines.node must read ">=x.y.z" or "^x.y.z" alternatives joined by ||, not "${range}"`);
    const [, operator, ...parts] = wanted;
    const floor = parts.map(Number);
    if (operator === '^' && have[0] !== floor[0]) return false;
    for (let i = 0; i < 3; i++) {
      if (have[i] !== floor[i]) return have[i] > floor[i];
    }
    return true;
  });
}
