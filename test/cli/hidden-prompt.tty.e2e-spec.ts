import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSource, event } from '../support/sources.js';
import { runVigilInTerminal, type TerminalAnswer } from '../support/terminal.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

// Each run is a fresh Node process on a pseudo-terminal: seconds apiece on a busy machine.
describe('#15 CLI prompts on a terminal: nothing typed is echoed', { timeout: 120_000 }, () => {
  let t: TestApp;
  let env: Record<string, string>;
  const email = (name: string) => `${name}-${randomBytes(3).toString('hex')}@tty.test.vigil`;
  const passphrase = () => `typed-${randomBytes(9).toString('hex')}`;
  const twice = (first: string, second = first): TerminalAnswer[] => [
    { after: 'New password: ', type: `${first}\r` },
    { after: 'Repeat it: ', type: `${second}\r` },
  ];
  const staffCount = async (address: string) => (await t.db.query(`SELECT 1 FROM staff WHERE email = $1`, [address])).rowCount;

  beforeAll(async () => {
    const secrets = { ENCRYPTION_KEY: randomBytes(32).toString('base64'), JWT_SECRET: randomBytes(32).toString('hex') };
    t = await startTestApp({ env: secrets });
    env = { ...secrets, DATABASE_URL: t.config.database.url!, DEV_OUTBOX: 'true' };
  });
  afterAll(() => t.close());

  it('#15 admin:create: the password typed at the prompt never shows, and the account signs in with it', async () => {
    const address = email('typed');
    const password = passphrase();
    const run = await runVigilInTerminal(['admin:create', address], env, twice(password));
    expect(run.code, run.screen).toBe(0);
    expect(run.screen).toContain('New password: ');
    expect(run.screen).toContain(`Created admin ${address}`);
    expect(run.screen).not.toContain(password.slice(6, 18));
    expect(run.screen).not.toContain('shown this once');
    await t.loginAs(address, password);
  });

  it('#15 admin:reset-password: the new password typed at the prompt never shows; the old token ends and the new password signs in', async () => {
    const address = email('retyped');
    const oldToken = await t.staffToken('admin', address);
    const password = passphrase();
    const run = await runVigilInTerminal(['admin:reset-password', address], env, twice(password));
    expect(run.code, run.screen).toBe(0);
    expect(run.screen).toContain(`Password reset for ${address}`);
    expect(run.screen).not.toContain(password.slice(6, 18));
    expect((await t.http().get('/v1/admin/staff').set('Authorization', `Bearer ${oldToken}`)).status).toBe(401);
    await t.loginAs(address, password);
  });

  it('#15 two different passwords, a short one or Ctrl-C are refused with a clear line, and nothing is created', async () => {
    const differ = email('differ');
    const first = passphrase();
    const second = passphrase();
    const mismatch = await runVigilInTerminal(['admin:create', differ], env, twice(first, second));
    expect(mismatch.code).toBe(1);
    expect(mismatch.screen).toContain('The two passwords differ; nothing was changed.');
    expect(mismatch.screen).not.toContain(first.slice(6, 18));
    expect(mismatch.screen).not.toContain(second.slice(6, 18));
    expect(await staffCount(differ)).toBe(0);

    const short = email('short');
    const tooShort = await runVigilInTerminal(['admin:create', short], env, [{ after: 'New password: ', type: 'hunter2\r' }]);
    expect(tooShort.code).toBe(2);
    expect(tooShort.screen).toContain('The password must be at least 12 characters.');
    expect(tooShort.screen).not.toContain('hunter2');
    expect(await staffCount(short)).toBe(0);

    const cancelled = email('cancelled');
    const ctrlC = await runVigilInTerminal(['admin:create', cancelled], env, [{ after: 'New password: ', type: 'half-typed\u0003' }]);
    expect(ctrlC.code).toBe(1);
    expect(ctrlC.screen).toContain('Cancelled; nothing was changed.');
    expect(ctrlC.screen).not.toContain('half-typed');
    expect(await staffCount(cancelled)).toBe(0);
  });

  it('#15 an empty password at the prompt has Vigil make one, printed once, that signs in', async () => {
    const address = email('empty');
    const run = await runVigilInTerminal(['admin:create', address], env, [{ after: 'New password: ', type: '\r' }]);
    expect(run.code, run.screen).toBe(0);
    expect(run.screen).toContain('Leave the password empty to have Vigil make one.');
    expect(run.screen).not.toContain('Repeat it: ');
    const password = /shown this once[^:]*: (\S+)/.exec(run.screen)?.[1];
    expect(password).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){4}$/);
    await t.loginAs(address, password!);
  });

  it('#15 event:send: the API key and signing secret typed at the prompts never show, and the signed event is taken', async () => {
    const source = await createSource(t, { signingRequired: true });
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'vigil-tty-')), 'event.json');
    writeFileSync(file, JSON.stringify(event({ sourceEventId: `tty-${randomBytes(4).toString('hex')}` })));
    const base = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
    const run = await runVigilInTerminal(['event:send', '--source', source.sourceId, '--file', file, '--url', base], env, [
      { after: `API key of source ${source.sourceId}: `, type: `${source.apiKey}\r` },
      { after: 'Signing secret', type: `${source.signingSecret}\r` },
    ]);
    expect(run.code, run.screen).toBe(0);
    expect(run.screen).toMatch(/^202\r?$/m);
    expect(run.screen).not.toContain(source.apiKey.slice(4));
    expect(run.screen).not.toContain(source.signingSecret.slice(6));
  });
});
