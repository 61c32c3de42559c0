import { execFile } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/cli-io.js';
import { registerEventCommands } from '../../src/cli/commands/events.js';
import { type AppConfig, loadConfig } from '../../src/config/app-config.js';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { DEMO_SOURCE_NAME, seedDemo } from '../../src/demo/demo-seeder.js';
import { readDemoState } from '../../src/demo/demo-state.js';
import { createSource, event } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const run = promisify(execFile);
const DEMO_ADDRESSES = ['victima.demo@example.org', '+17135550100'];

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Runs one `vigil …` command line through the commander program the CLI builds. */
async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    out: (text) => void (out += text),
    err: (text) => void (err += text),
    env,
    stdinIsTty: false,
    exit: (code) => {
      throw new Exit(code);
    },
  };
  const program = new Command('vigil').exitOverride();
  registerEventCommands(program, io);
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (error) {
    if (error instanceof Exit) return { code: error.code, out, err };
    throw error;
  }
  throw new Error('the command returned without an exit code');
}

function demoConfig(t: TestApp, dataDir: string, demo = true): AppConfig {
  return { ...t.config, demo, database: { ...t.config.database, dataDir } };
}

async function outboxFor(t: TestApp): Promise<{ channel: string; to: string; subject: string | null; body: string }[]> {
  const res = await t
    .http()
    .get('/dev/outbox')
    .set('Authorization', `Bearer ${await t.adminToken()}`);
  expect(res.status).toBe(200);
  return res.body.messages.filter((m: { to: string }) => DEMO_ADDRESSES.includes(m.to));
}

describe('#15 first-run demo', () => {
  let t: TestApp;
  let dataDir: string;
  let base: string;
  beforeAll(async () => {
    t = await startTestApp();
    dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-demo-'));
    base = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(() => t.close());

  it('#15 DEMO is on in embedded mode only, off with DEMO=false, and never where a real provider could reach the fictitious victim', () => {
    const embedded = { DATA_DIR: dataDir };
    expect(loadConfig(embedded).demo).toBe(true);
    expect(loadConfig({ ...embedded, DEMO: 'false' }).demo).toBe(false);
    expect(loadConfig({ ...embedded, SMTP_URL: 'smtp://127.0.0.1:2525' }).demo).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'postgres://vigil@127.0.0.1/vigil', ...secrets(), DEV_OUTBOX: 'true' }).demo).toBe(false);
  });

  it('#15 DEMO=false seeds nothing', async () => {
    const untouched = mkdtempSync(path.join(tmpdir(), 'vigil-demo-off-'));
    expect(await seedDemo(t.app, demoConfig(t, untouched, false))).toBeUndefined();
    expect(readDemoState(untouched)).toBeUndefined();
    expect((await t.db.query(`SELECT count(*)::int AS n FROM source`)).rows[0].n).toBe(0);
  });

  it('#15 the first start seeds a signed source, people in custody and one verified enrolment, once; its keys are in DATA_DIR, owner-only', async () => {
    const first = await seedDemo(t.app, demoConfig(t, dataDir));
    expect(first?.created).toBe(true);
    const counts = async () =>
      (
        await t.db.query(
          `SELECT (SELECT count(*)::int FROM source) AS sources, (SELECT count(*)::int FROM person WHERE custody_status = 'IN_CUSTODY') AS people,
                  (SELECT count(*)::int FROM registration) AS registrations,
                  (SELECT count(*)::int FROM contact WHERE verified_at IS NOT NULL) AS verified,
                  (SELECT count(*)::int FROM custody_event) AS events`,
        )
      ).rows[0];
    expect(await counts()).toEqual({ sources: 1, people: 3, registrations: 1, verified: 2, events: 3 });
    const { rows } = await t.db.query(`SELECT name, signing_required FROM source`);
    expect(rows).toEqual([{ name: DEMO_SOURCE_NAME, signing_required: true }]);
    const file = path.join(dataDir, 'demo.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readDemoState(dataDir)?.signingSecret).toMatch(/^whsec_/);

    const again = await seedDemo(t.app, demoConfig(t, dataDir));
    expect(again?.created).toBe(false);
    expect(again?.state.registrationId).toBe(first?.state.registrationId);
    expect(await counts()).toEqual({ sources: 1, people: 3, registrations: 1, verified: 2, events: 3 });
    // Enrolment sends nothing by itself: the first message the demo victim gets is an alert.
    expect(await outboxFor(t)).toEqual([]);
  });

  it('#15 npm run demo:release signs a RELEASED event as the demo source; the alert reaches the dev outbox in the victim’s language, and again on a second run', async () => {
    const script = await run(process.execPath, ['dist/src/demo/release.cli.js', '--url', base], {
      env: { ...process.env, DATA_DIR: dataDir, PUBLIC_BASE_URL: '', PORT: '' },
    });
    expect(script.stdout).toContain('202');
    expect(script.stdout).toContain('"status": "accepted"');
    expect(script.stdout).toContain('/es/manage?token=vmt_');
    await t.app.get(DispatcherService).drain();
    const first = await outboxFor(t);
    expect(first.map((m) => m.channel).sort()).toEqual(['email', 'sms']);
    for (const message of first) {
      expect(message.body).toContain('fue PUESTO EN LIBERTAD de Demo County Jail');
      expect(message.body).toContain('911');
    }
    const { rows } = await t.db.query(`SELECT webhook_id FROM webhook_message`);
    expect(rows.length).toBeGreaterThan(1);

    // The person is out now: a second run books them again and releases them, each a real alert.
    const second = await cli(['demo:release', '--url', base], { DATA_DIR: dataDir });
    expect(second.code).toBe(0);
    expect(second.out).toContain('booking them again');
    expect(second.out.match(/"status": "accepted"/g)).toHaveLength(2);
    await t.app.get(DispatcherService).drain();
    const after = await outboxFor(t);
    expect(after).toHaveLength(6);
    expect(after.filter((m) => m.body.includes('PUESTO EN LIBERTAD'))).toHaveLength(4);
    const status = await t.db.query(
      `SELECT custody_status FROM person p JOIN person_identifier i ON i.person_id = p.id WHERE i.system = 'STATE_ID' AND i.value = 'DEMO0001'`,
    );
    expect(status.rows).toEqual([{ custody_status: 'RELEASED' }]);
  });

  it('#15 demo:release says so when no demo was seeded or Vigil is not running, and exits 1', async () => {
    const empty = await cli(['demo:release', '--url', base], { DATA_DIR: mkdtempSync(path.join(tmpdir(), 'vigil-demo-none-')) });
    expect(empty.code).toBe(1);
    expect(empty.err).toContain('No demo has been seeded');
    const down = await cli(['demo:release', '--url', 'http://127.0.0.1:9'], { DATA_DIR: dataDir });
    expect(down.code).toBe(1);
    expect(down.err).toContain('Vigil is not answering at http://127.0.0.1:9');
    expect(down.err).toContain('npm start');
  });
});

describe('#15 vigil event:send', () => {
  let t: TestApp;
  let base: string;
  let file: string;
  beforeAll(async () => {
    t = await startTestApp();
    base = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
    file = path.join(mkdtempSync(path.join(tmpdir(), 'vigil-send-')), 'event.json');
  });
  afterAll(() => t.close());

  it('#15 sends the file signed with the key from the environment: 202 shown, exit 0', async () => {
    const source = await createSource(t, { signingRequired: true });
    const sent = event({ sourceEventId: 'cli-send-1' });
    writeFileSync(file, JSON.stringify(sent));
    const result = await cli(['event:send', '--source', source.sourceId, '--file', file, '--url', base], {
      VIGIL_SOURCE_KEY: source.apiKey,
      VIGIL_SIGNING_SECRET: source.signingSecret,
    });
    expect(result).toMatchObject({ code: 0 });
    expect(result.out).toMatch(/^202\n/);
    expect(result.out).toContain('"sourceEventId": "cli-send-1"');
    const { rows } = await t.db.query(`SELECT source_id FROM custody_event WHERE source_event_id = 'cli-send-1'`);
    expect(rows).toEqual([{ source_id: source.sourceId }]);
    // A signing source refuses the same file unsigned: the signature really was made and checked.
    const unsigned = await cli(['event:send', '--source', source.sourceId, '--file', file, '--url', base], {
      VIGIL_SOURCE_KEY: source.apiKey,
    });
    expect(unsigned.code).toBe(1);
    expect(unsigned.out).toContain('SIGNATURE_REQUIRED');
  });

  it('#15 a bad key: the 401 problem is shown and the exit code is 1', async () => {
    const source = await createSource(t);
    writeFileSync(file, JSON.stringify(event()));
    const result = await cli(['event:send', '--source', source.sourceId, '--file', file, '--url', base], {
      VIGIL_SOURCE_KEY: 'vgl_not-a-key',
    });
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/^401\n/);
    expect(result.out).toContain('"status": 401');
    expect(result.out).toContain('A valid source API key is required.');
  });

  it('#15 usage mistakes exit 2 and send nothing: a missing option, no key, an unreadable file, a source that is not an id', async () => {
    const source = await createSource(t);
    writeFileSync(file, JSON.stringify(event()));
    const env = { VIGIL_SOURCE_KEY: source.apiKey };
    expect((await cli(['event:send', '--source', source.sourceId, '--url', base], env)).code).toBe(2);
    const noKey = await cli(['event:send', '--source', source.sourceId, '--file', file, '--url', base], {});
    expect(noKey.code).toBe(2);
    expect(noKey.err).toContain('VIGIL_SOURCE_KEY');
    expect((await cli(['event:send', '--source', source.sourceId, '--file', `${file}.missing`, '--url', base], env)).code).toBe(2);
    expect((await cli(['event:send', '--source', 'jail', '--file', file, '--url', base], env)).code).toBe(2);
    expect((await cli(['event:send', '--source', source.sourceId, '--file', file, '--key', source.apiKey], env)).code).toBe(2);
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM custody_event WHERE source_id = $1`, [source.sourceId]);
    expect(rows[0].n).toBe(0);
  });
});

function secrets(): Record<string, string> {
  return { ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'), JWT_SECRET: 'x'.repeat(40) };
}
