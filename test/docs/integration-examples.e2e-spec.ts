import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSource, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const EXAMPLES = path.resolve('docs/examples');
const GUIDE = readFileSync(path.resolve('docs/INTEGRATION.md'), 'utf8');
const RUNNERS = {
  bash: ['bash', path.join(EXAMPLES, 'send.sh')],
  python: ['python3', path.join(EXAMPLES, 'send.py')],
  node: [process.execPath, path.join(EXAMPLES, 'send.mjs')],
} as const;
type Runner = keyof typeof RUNNERS;

interface Sent {
  code: number;
  status: number;
  body: Record<string, unknown>;
}

/** Runs a guide's example exactly as a reader would, and reads the status line and answer it prints. */
function send(runner: Runner, env: Record<string, string>, file: string, ...route: string[]): Promise<Sent> {
  const [command, script] = RUNNERS[runner];
  return new Promise((resolve, reject) => {
    execFile(command, [script, file, ...route], { env: { PATH: process.env.PATH, ...env } }, (error, stdout, stderr) => {
      const [status, ...rest] = stdout.trim().split('\n');
      if (!/^\d{3}$/.test(status ?? '')) return reject(new Error(`${runner} printed no status: ${stdout}${stderr}`));
      resolve({ code: error ? Number(error.code) : 0, status: Number(status), body: JSON.parse(rest.join('\n')) });
    });
  });
}

describe('#15 docs/INTEGRATION.md: its examples run against Vigil', () => {
  let t: TestApp;
  let source: TestSource;
  let env: Record<string, string>;
  const example = (name: string) => path.join(EXAMPLES, name);
  beforeAll(async () => {
    t = await startTestApp();
    source = await createSource(t, { signingRequired: true });
    env = {
      VIGIL_URL: (await t.app.getUrl()).replace('[::1]', '127.0.0.1'),
      VIGIL_SOURCE_KEY: source.apiKey,
      VIGIL_SIGNING_SECRET: source.signingSecret,
    };
  });
  afterAll(() => t.close());

  it('#15 the guide shows each example script as it is in docs/examples', () => {
    for (const name of ['send.sh', 'send.py', 'send.mjs', 'released-event.json', 'correction.json']) {
      expect(GUIDE, `${name} in the guide`).toContain(readFileSync(example(name), 'utf8').trim());
    }
  });

  it('#15 curl+openssl, Python and Node each sign as Standard Webhooks does: accepted, then the same event is a duplicate', async () => {
    const accepted = await send('bash', env, example('released-event.json'));
    expect(accepted).toMatchObject({
      code: 0,
      status: 202,
      body: { results: [{ sourceEventId: 'jms-2026-000123-rel', status: 'accepted' }] },
    });
    for (const runner of ['python', 'node'] as const) {
      const again = await send(runner, env, example('released-event.json'));
      expect(again, runner).toMatchObject({ code: 0, status: 202, body: { results: [{ status: 'duplicate' }] } });
    }
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM custody_event WHERE source_event_id = 'jms-2026-000123-rel'`);
    expect(rows[0].n).toBe(1);
  });

  it('#15 the same sourceEventId with another body is a 409 conflict (exit 1), in every language', async () => {
    const changed = path.join(mkdtempSync(path.join(tmpdir(), 'vigil-guide-')), 'changed.json');
    const body = JSON.parse(readFileSync(example('released-event.json'), 'utf8'));
    writeFileSync(changed, JSON.stringify({ ...body, occurredAt: '2026-11-26T14:05:00-06:00' }));
    for (const runner of Object.keys(RUNNERS) as Runner[]) {
      const refused = await send(runner, env, changed);
      expect(refused, runner).toMatchObject({ code: 1, status: 409, body: { status: 409, code: 'EVENT_CONFLICT' } });
    }
  });

  it('#15 a batch, a correction and a roster (baseline, then a diff) as the guide sends them', async () => {
    const batch = await send('python', env, example('batch.json'));
    expect(batch).toMatchObject({ status: 202, body: { results: [{ status: 'accepted' }, { status: 'accepted' }] } });
    const correction = await send('node', env, example('correction.json'));
    expect(correction).toMatchObject({
      status: 202,
      body: { results: [{ sourceEventId: 'jms-2026-000123-rel-corr', status: 'accepted' }] },
    });
    const baseline = await send('bash', env, example('roster.json'), 'PUT', '/v1/facilities/DEMO-1/roster');
    expect(baseline).toMatchObject({ status: 202, body: { baseline: true, booked: 0, released: 0, unchanged: 2, held: false } });
    const next = await send('node', env, example('roster-next.json'), 'PUT', '/v1/facilities/DEMO-1/roster');
    expect(next).toMatchObject({ status: 202, body: { baseline: false, booked: 1, released: 1, unchanged: 1, held: false } });
    const again = await send('python', env, example('roster-next.json'), 'PUT', '/v1/facilities/DEMO-1/roster');
    expect(again.body).toEqual(next.body);
    const older = await send('bash', env, example('roster.json'), 'PUT', '/v1/facilities/DEMO-1/roster');
    expect(older).toMatchObject({ code: 1, status: 409, body: { code: 'ROSTER_OUT_OF_ORDER' } });
  });

  it('#15 the guide’s error statuses: a bad key 401, a bad signature 401, a malformed body 400, a field error 422', async () => {
    const badKey = await send('bash', { ...env, VIGIL_SOURCE_KEY: 'vgl_wrong' }, example('released-event.json'));
    expect(badKey).toMatchObject({ code: 1, status: 401, body: { code: 'SOURCE_AUTH_INVALID' } });
    const badSecret = await send(
      'python',
      { ...env, VIGIL_SIGNING_SECRET: `whsec_${Buffer.alloc(32, 1).toString('base64')}` },
      example('released-event.json'),
    );
    expect(badSecret).toMatchObject({ code: 1, status: 401, body: { code: 'SIGNATURE_INVALID' } });
    const unsigned = await send('node', { ...env, VIGIL_SIGNING_SECRET: '' }, example('released-event.json'));
    expect(unsigned).toMatchObject({ code: 1, status: 401, body: { code: 'SIGNATURE_REQUIRED' } });
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-guide-'));
    writeFileSync(path.join(dir, 'broken.json'), '{"sourceEventId": ');
    expect(await send('bash', env, path.join(dir, 'broken.json'))).toMatchObject({ code: 1, status: 400 });
    writeFileSync(path.join(dir, 'invalid.json'), JSON.stringify({ sourceEventId: 'x', type: 'LEFT', occurredAt: 'yesterday' }));
    const invalid = await send('python', env, path.join(dir, 'invalid.json'));
    expect(invalid).toMatchObject({ code: 1, status: 422 });
    expect((invalid.body.errors as { path: string }[]).map((e) => e.path)).toEqual(
      expect.arrayContaining(['type', 'occurredAt', 'person']),
    );
  });
});
