import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rosterSchema } from '../src/ingestion/custody-event.schema.js';
import { readRosterStream } from '../src/ingestion/roster-stream.js';
import { rosterBody } from './roster-body.js';
import { report } from './support.js';

/*
 * What reading a 100,000-person, ~50 MB roster costs before the roster service sees it, each way
 * in a fresh process (no node flags): "buffered" as the Express route does it (the raw body kept
 * for the signature, the text, JSON.parse's tree, the schema's output, alive together until the
 * answer), "streamed" with readRosterStream (only the validated people are kept). Chunks of 64 KB
 * from a file stand in for the socket.
 */

type Figures = { peakRssMb: number; baseRssMb: number; heapUsedMb: number; arrayBuffersMb: number; seconds: number; people: number };

const mb = (bytes: number) => bytes / 2 ** 20;

async function hwmMb(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function child(mode: string, file: string): Promise<void> {
  const baseRssMb = mb(process.memoryUsage().rss);
  const started = performance.now();
  const body = createReadStream(file, { highWaterMark: 64 * 1024 });
  let kept: unknown[];
  if (mode === 'buffered') {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    const roster = rosterSchema.parse(parsed);
    kept = [raw, parsed, roster];
  } else {
    const people: unknown[] = [];
    for await (const part of readRosterStream(body)) if (part.kind === 'person') people.push(part.person);
    kept = [people];
  }
  const seconds = (performance.now() - started) / 1000;
  const usage = process.memoryUsage();
  const people = mode === 'buffered' ? (kept[2] as { people: unknown[] }).people.length : (kept[0] as unknown[]).length;
  const figures: Figures = {
    peakRssMb: await hwmMb(),
    baseRssMb,
    heapUsedMb: mb(usage.heapUsed),
    arrayBuffersMb: mb(usage.arrayBuffers),
    seconds,
    people,
  };
  process.stdout.write(JSON.stringify(figures));
}

function run(mode: string, file: string): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--enable-source-maps', fileURLToPath(import.meta.url), mode, file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Figures) : reject(new Error(`${mode} exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const [mode, file] = process.argv.slice(2);
  if (mode) return child(mode, file);
  const folder = await mkdtemp(path.join(tmpdir(), 'vigil-bench-roster-'));
  try {
    const bodyFile = path.join(folder, 'roster.json');
    await writeFile(bodyFile, rosterBody(new Date().toISOString()));
    const figures: Record<string, number> = {};
    for (const way of ['buffered', 'streamed']) {
      const result = await run(way, bodyFile);
      figures[`${way}_peak_rss_mb`] = result.peakRssMb;
      figures[`${way}_peak_over_start_mb`] = result.peakRssMb - result.baseRssMb;
      figures[`${way}_heap_used_after_mb`] = result.heapUsedMb;
      figures[`${way}_array_buffers_after_mb`] = result.arrayBuffersMb;
      figures[`${way}_seconds`] = result.seconds;
      figures[`${way}_people`] = result.people;
    }
    report('roster-parse', figures, {}, [
      'One process per way, no node flags; peak = VmHWM; "after" = process.memoryUsage() with what the route keeps until it answers still alive.',
    ]);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
