import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/**
 * A closed-loop load generator: `concurrency` workers each send a request, wait for the answer,
 * and send the next, for `seconds`. Each body is made fresh by `body(i)`. Only loopback targets.
 */
export async function load(options: {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body: (i: number) => string;
  concurrency: number;
  seconds: number;
  expectStatus?: number;
}): Promise<LoadResult> {
  const target = new URL(options.url);
  if (!['127.0.0.1', 'localhost'].includes(target.hostname)) throw new Error('benchmarks only target loopback');
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let counter = 0;
  const deadline = performance.now() + options.seconds * 1000;
  const started = performance.now();
  const send = (payload: string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname + target.search,
          method: options.method ?? 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...options.headers },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < deadline) {
        const payload = options.body(counter++);
        const t0 = performance.now();
        const status = await send(payload).catch(() => 0);
        latencies.push(performance.now() - t0);
        if (status !== (options.expectStatus ?? 202)) errors++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pick = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { requests: latencies.length, seconds, perSecond: latencies.length / seconds, p50Ms: pick(0.5), p99Ms: pick(0.99), errors };
}

export function machine(): string {
  return `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

export function report(
  name: string,
  figures: Record<string, number>,
  targets: Record<string, number | string>,
  notes: string[] = [],
): void {
  const rows = Object.entries(figures).map(([key, value]) => [
    key,
    value.toLocaleString('en-US', { maximumFractionDigits: 2 }),
    String(targets[key] ?? ''),
  ]);
  const width = [Math.max(...rows.map((r) => r[0].length), 6), Math.max(...rows.map((r) => r[1].length), 5), 12];
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(width[i])).join('  ');
  console.log(`\n${name} — ${machine()}\n`);
  console.log(line(['figure', 'value', 'target']));
  for (const row of rows) console.log(line(row));
  for (const note of notes) console.log(`\n${note}`);
  const dir = path.join(process.cwd(), 'bench-results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ machine: machine(), figures, targets, notes }, null, 2) + '\n');
  console.log(`\nwritten to bench-results/${name}.json`);
}
