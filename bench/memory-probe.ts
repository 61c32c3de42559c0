import { appendFileSync } from 'node:fs';

/*
 * Loaded with `--import` by `bench:memory` when BENCH_DIAG=1: writes process.memoryUsage() every
 * 100 ms to MEMORY_PROBE_FILE, so the benchmark can tell heap from buffers in each phase's peak.
 */
const file = process.env.MEMORY_PROBE_FILE;
if (file) {
  setInterval(() => {
    appendFileSync(file, JSON.stringify({ t: Date.now(), ...process.memoryUsage() }) + '\n');
  }, 100).unref();
}
