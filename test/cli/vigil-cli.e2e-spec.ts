import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { type RunningPostgres, startEmbeddedPostgres } from '../../src/database/embedded-postgres.launcher.js';
import { ensureDatabase } from '../../src/database/ensure-database.js';
import { runMigrations } from '../../src/database/migrate.js';
import { bookPerson, register } from '../support/registrations.js';
import { createSource, event, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { runVigil } from '../support/vigil-cli.js';
import { waitFor } from '../support/worker-process.js';

const COMMANDS = [
  'admin:create',
  'admin:reset-password',
  'staff:disable',
  'source:create',
  'source:rotate-key',
  'source:list',
  'deliveries:retry-dead',
  'ledger:verify',
  'keys:rotate',
  'retention:run',
];

// Each command is a fresh Node process loading the services: seconds apiece on a busy machine.
describe('#15 CLI: npx vigil', { timeout: 120_000 }, () => {
  let t: TestApp;
  let env: Record<string, string>;
  const vigil = (args: string[], extra: Record<string, string> = {}) => runVigil(args, { ...env, ...extra });
  const email = (name: string) => `${name}-${randomBytes(3).toString('hex')}@cli.test.vigil`;
  const cliAudit = async (action: string, targetId: string) =>
    (
      await t.db.query(`SELECT actor_staff_id, actor_role, client_address FROM audit_log WHERE action = $1 AND target_id = $2`, [
        action,
        targetId,
      ])
    ).rows;

  beforeAll(async () => {
    const secrets = { ENCRYPTION_KEY: randomBytes(32).toString('base64'), JWT_SECRET: randomBytes(32).toString('hex') };
    t = await startTestApp({ env: secrets });
    // The server's environment, as an operator runs the command beside it.
    env = { ...secrets, DATABASE_URL: t.config.database.url!, DEV_OUTBOX: 'true' };
  });
  afterAll(() => t.close());

  it('#15 every command has --help with a description and an example, and no option takes a password, key or secret', async () => {
    const top = await vigil(['--help']);
    expect(top.code).toBe(0);
    for (const command of COMMANDS) expect(top.stdout).toContain(command);
    const helps = await Promise.all(COMMANDS.map((command) => vigil([command, '--help'])));
    helps.forEach((help, i) => {
      expect(help.code, COMMANDS[i]).toBe(0);
      expect(help.stdout).toContain(`Usage: vigil ${COMMANDS[i]}`);
      expect(help.stdout).toMatch(new RegExp(`Example.*:\\n\\s+\\$ .*vigil ${COMMANDS[i]}`));
      const options = help.stdout.split('\n').filter((line) => /^\s+-/.test(line));
      for (const option of options) expect(option.split(/\s{2,}/)[1] ?? option).not.toMatch(/password|secret|key|token|pin/i);
    });
  });

  it('#15 an unknown option (a password on the command line) exits 2 and changes nothing', async () => {
    const address = email('argv');
    const run = await vigil(['admin:create', address, '--password', 'correct horse battery staple']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown option '--password'");
    expect((await t.db.query(`SELECT 1 FROM staff WHERE email = $1`, [address])).rowCount).toBe(0);
    const badEmail = await vigil(['staff:disable', 'not-an-email']);
    expect(badEmail.code).toBe(2);
    expect(badEmail.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('#15 a configuration error exits 78, as the server does', async () => {
    const run = await vigil(['source:list'], { JWT_SECRET: '' });
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('JWT_SECRET');
  });

  it('#15 admin:create takes VIGIL_PASSWORD, or makes a password and prints it once; both sign in, audited as the CLI', async () => {
    const chosen = { email: email('chosen'), password: `chosen-${randomBytes(8).toString('hex')}` };
    const run = await vigil(['admin:create', chosen.email], { VIGIL_PASSWORD: chosen.password });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain(chosen.password);
    await t.loginAs(chosen.email, chosen.password);

    const generated = email('generated');
    const made = await vigil(['admin:create', generated]);
    expect(made.code, made.stderr).toBe(0);
    const password = /shown this once[^:]*: (\S+)/.exec(made.stdout)?.[1];
    expect(password).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){4}$/);
    const token = await t.loginAs(generated, password!);
    const me = await t.http().get('/v1/admin/staff').set('Authorization', `Bearer ${token}`);
    expect(me.status).toBe(200);

    const { rows } = await t.db.query(`SELECT id, role FROM staff WHERE email = $1`, [generated]);
    expect(rows[0].role).toBe('admin');
    const audit = await cliAudit('staff.create', rows[0].id);
    expect(audit).toEqual([{ actor_staff_id: null, actor_role: 'cli', client_address: expect.stringMatching(/^cli:/) }]);

    const again = await vigil(['admin:create', generated]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('STAFF_EMAIL_TAKEN');
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    const short = await vigil(['admin:create', email('short')], { VIGIL_PASSWORD: 'short' });
    expect(short.code).toBe(2);
  });

  it('#15 admin:reset-password ends the old token, and the new password signs in', async () => {
    const address = email('reset');
    const oldToken = await t.staffToken('admin', address);
    expect((await t.http().get('/v1/admin/staff').set('Authorization', `Bearer ${oldToken}`)).status).not.toBe(401);
    const run = await vigil(['admin:reset-password', address]);
    expect(run.code, run.stderr).toBe(0);
    const password = /shown this once[^:]*: (\S+)/.exec(run.stdout)![1];
    expect((await t.http().get('/v1/admin/staff').set('Authorization', `Bearer ${oldToken}`)).status).toBe(401);
    await t.loginAs(address, password);
    const { rows } = await t.db.query(`SELECT id FROM staff WHERE email = $1`, [address]);
    expect(await cliAudit('staff.password_reset', rows[0].id)).toHaveLength(1);

    const unknown = await vigil(['admin:reset-password', email('nobody')]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No staff member has that email');
  });

  it('#15 staff:disable ends the account token and sign-in at once', async () => {
    const address = email('leaver');
    const token = await t.staffToken('admin', address);
    const run = await vigil(['staff:disable', address]);
    expect(run.code, run.stderr).toBe(0);
    expect((await t.http().get('/v1/admin/staff').set('Authorization', `Bearer ${token}`)).status).toBe(401);
    expect((await t.http().post('/v1/auth/login').send({ email: address, password: 'anything-at-all' })).status).toBe(401);
    const { rows } = await t.db.query(`SELECT id, disabled FROM staff WHERE email = $1`, [address]);
    expect(rows[0].disabled).toBe(true);
    expect(await cliAudit('staff.disable', rows[0].id)).toHaveLength(1);
  });

  it('#15 source:create prints a key that a signed event is accepted with; source:list shows no secret', async () => {
    const name = `CLI JMS ${randomBytes(3).toString('hex')}`;
    const run = await vigil(['source:create', name, '--facility', 'hcj-1', '--signing-required', '--expected-interval', '900']);
    expect(run.code, run.stderr).toBe(0);
    const source: TestSource = {
      sourceId: /\(([0-9a-f-]{36})\)/.exec(run.stdout)![1],
      apiKey: /API key:\s+(\S+)/.exec(run.stdout)![1],
      signingSecret: /Signing secret:\s+(\S+)/.exec(run.stdout)![1],
    };
    expect(source.apiKey).toMatch(/^vgl_/);
    expect((await postEvents(t, source, event(), { sign: true })).status).toBe(202);
    expect((await postEvents(t, source, event())).status).toBe(401);
    expect(await cliAudit('source.create', source.sourceId)).toHaveLength(1);

    for (const args of [['source:list'], ['source:list', '--json']]) {
      const list = await vigil(args);
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toContain(name);
      expect(list.stdout).toContain(source.apiKey.slice(0, 10));
      expect(list.stdout).not.toContain(source.apiKey);
      expect(list.stdout).not.toContain(source.signingSecret.slice(6, 20));
    }
    const bad = await vigil(['source:create', 'Bad facility', '--facility', 'no spaces']);
    expect(bad.code).toBe(2);
  });

  it('#15 source:rotate-key: the printed key works and the old one is refused', async () => {
    const source = await createSource(t);
    expect((await postEvents(t, source, event())).status).toBe(202);
    const run = await vigil(['source:rotate-key', source.sourceId]);
    expect(run.code, run.stderr).toBe(0);
    const apiKey = /shown this once: (\S+)/.exec(run.stdout)![1];
    expect((await postEvents(t, { ...source, apiKey }, event())).status).toBe(202);
    // An API process trusts a key it checked for a few seconds (the service's AUTH_CACHE_MS).
    await waitFor(
      async () => (await postEvents(t, source, event())).status === 401,
      10_000,
      () => Promise.resolve('the old key is still accepted'),
    );
    expect(await cliAudit('source.key.rotate', source.sourceId)).toHaveLength(1);
    const missing = await vigil(['source:rotate-key', 'No such source']);
    expect(missing.code).toBe(1);
  });

  it('#15 retention:run is audited as the CLI operator, like every other command', async () => {
    const run = await vigil(['retention:run']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Erased \d+ registrations: /);
    const { rows } = await t.db.query(
      `SELECT actor_staff_id, actor_role, client_address FROM audit_log WHERE action = 'retention.run' AND target_type = 'retention'`,
    );
    expect(rows).toEqual([{ actor_staff_id: null, actor_role: 'cli', client_address: expect.stringMatching(/^cli:.+@.+/) }]);
  });

  it('#15 retention:run beside a run in progress does nothing and exits 75 (try again later), not 2 (bad usage)', async () => {
    const other = await t.db.connect();
    try {
      // The lock the workers' daily run and the CLI take (retention.ts RETENTION_LOCK).
      await other.query(`SELECT pg_advisory_lock(7316450022)`);
      const run = await vigil(['retention:run']);
      expect(run.stdout).toContain('Another retention run is in progress; nothing done.');
      expect(run.code).toBe(75);
    } finally {
      await other.query(`SELECT pg_advisory_unlock(7316450022)`);
      other.release();
    }
  });

  describe('with a delivered message', () => {
    let deliveryId: string;
    beforeAll(async () => {
      const source = await createSource(t);
      const personId = await bookPerson(t, source, `A-715-${randomBytes(3).toString('hex')}`);
      const created = await register(t, { personId, language: 'en', contacts: [{ channel: 'email', address: 'cli-dead@example.org' }] });
      expect(created.status).toBe(201);
      await t.app.get(DispatcherService).drain();
      const { rows } = await t.db.query(`SELECT id FROM delivery WHERE contact_id = $1`, [created.body.contacts[0].contactId]);
      deliveryId = rows[0].id;
    });

    it('#15 deliveries:retry-dead queues a dead delivery again, audited; a delivery that is not dead is refused', async () => {
      await t.db.query(`UPDATE delivery SET status = 'dead', last_error = 'smtp_550' WHERE id = $1`, [deliveryId]);
      const run = await vigil(['deliveries:retry-dead', deliveryId]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('Retried 1 dead delivery');
      expect((await t.db.query(`SELECT status FROM delivery WHERE id = $1`, [deliveryId])).rows[0].status).toBe('pending');
      expect(await cliAudit('delivery.retry', deliveryId)).toHaveLength(1);

      const notDead = await vigil(['deliveries:retry-dead', deliveryId]);
      expect(notDead.code).toBe(1);
      expect(notDead.stderr).toContain(deliveryId);

      await t.db.query(`UPDATE delivery SET status = 'dead' WHERE id = $1`, [deliveryId]);
      const all = await vigil(['deliveries:retry-dead', '--all']);
      expect(all.code, all.stderr).toBe(0);
      expect((await t.db.query(`SELECT count(*)::int AS n FROM delivery WHERE status = 'dead'`)).rows[0].n).toBe(0);
      expect((await vigil(['deliveries:retry-dead'])).code).toBe(2);
      await t.app.get(DispatcherService).drain();
    });

    // Last: it leaves this database's ledger broken.
    it('#15 ledger:verify exits 0 on a good chain and 1 naming the delivery after tampering', async () => {
      const { rows } = await t.db.query(`SELECT delivery_id, attempt_no FROM delivery_attempt WHERE delivery_id = $1 LIMIT 1`, [
        deliveryId,
      ]);
      expect(rows).toHaveLength(1);
      const good = await vigil(['ledger:verify']);
      expect(good.code, good.stderr).toBe(0);
      expect(good.stdout).toContain('every chain intact');
      await t.db.query(`ALTER TABLE delivery_attempt DISABLE TRIGGER delivery_attempt_append_only`);
      await t.db.query(`UPDATE delivery_attempt SET provider_message_id = 'forged' WHERE delivery_id = $1 AND attempt_no = $2`, [
        deliveryId,
        rows[0].attempt_no,
      ]);
      await t.db.query(`ALTER TABLE delivery_attempt ENABLE TRIGGER delivery_attempt_append_only`);
      const bad = await vigil(['ledger:verify']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain(deliveryId);
    });
  });
});

describe('#15 CLI beside a running Vigil in embedded mode', { timeout: 120_000 }, () => {
  let folder: string;
  let embedded: RunningPostgres;
  beforeAll(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'vigil-cli-'));
    // Started as main.ts does: this test process holds DATA_DIR as a running Vigil would.
    embedded = await startEmbeddedPostgres({ dataDir: folder, settings: { fsync: 'off', synchronous_commit: 'off' } });
    await ensureDatabase(embedded.url(), 'vigil');
    await runMigrations(embedded.url('vigil'));
  });
  afterAll(async () => {
    await embedded?.stop();
    await rm(folder, { recursive: true, force: true });
  });

  it('#15 with no DATABASE_URL the command connects to the postmaster the running Vigil holds in DATA_DIR', async () => {
    const run = await runVigil(['source:create', 'Embedded JMS'], { DATA_DIR: folder });
    expect(run.code, run.stderr).toBe(0);
    const db = new pg.Client({ connectionString: embedded.url('vigil') });
    await db.connect();
    try {
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM source WHERE name = 'Embedded JMS'`);
      expect(rows[0].n).toBe(1);
    } finally {
      await db.end();
    }
    // The cluster still serves: the command did not start or stop a server of its own.
    const list = await runVigil(['source:list'], { DATA_DIR: folder });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('Embedded JMS');
  });
});
