import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { bookPerson, register } from '../support/registrations.js';
import { createSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('dev outbox (no SMTP or Twilio settings)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '1000' } });
  });
  afterAll(() => t.close());

  it('stores every channel’s messages, shows them at /dev/outbox, logs only masked recipients, and never drops one', async () => {
    const source = await createSource(t);
    const personId = await bookPerson(t, source, 'OUTBOX-1');
    const created = await register(t, {
      personId,
      language: 'en',
      pin: '1234',
      contacts: [
        { channel: 'email', address: 'outbox.victim@example.org' },
        { channel: 'sms', address: '+17135550777' },
        { channel: 'voice', address: '+17135550778' },
      ],
    });
    expect(created.status).toBe(201);
    expect(await t.app.get(DispatcherService).drain()).toBe(3);

    expect((await t.http().get('/dev/outbox')).status).toBe(401);
    expect(
      (
        await t
          .http()
          .get('/dev/outbox')
          .set('Authorization', `Bearer ${await t.staffToken('specialist')}`)
      ).status,
    ).toBe(403);
    const outbox = await t
      .http()
      .get('/dev/outbox')
      .set('Authorization', `Bearer ${await t.adminToken()}`);
    expect(outbox.status).toBe(200);
    const mine = outbox.body.messages.filter((m: { to: string }) =>
      ['outbox.victim@example.org', '+17135550777', '+17135550778'].includes(m.to),
    );
    expect(mine.map((m: { channel: string }) => m.channel).sort()).toEqual(['email', 'sms', 'voice']);
    expect(mine.find((m: { channel: string }) => m.channel === 'sms').body).toMatch(/Vigil code: \d{6}/);

    const { rows } = await t.db.query(`SELECT recipient, body FROM dev_outbox`);
    expect(JSON.stringify(rows)).not.toContain('outbox.victim');
    expect(JSON.stringify(rows)).not.toContain('5550777');
    const logs = t.logs.join('\n');
    expect(logs).toContain('dev outbox');
    expect(logs).toContain('+1•••••0777');
    expect(logs).not.toContain('5550777');
    const statuses = await t.db.query(
      `SELECT DISTINCT status FROM delivery d JOIN contact c ON c.id = d.contact_id WHERE c.registration_id = $1`,
      [created.body.registrationId],
    );
    expect(statuses.rows).toEqual([{ status: 'sent' }]);
  });
});

describe('dev outbox in production', () => {
  it('is not served', async () => {
    const t = await startTestApp({ env: { NODE_ENV: 'production', PUBLIC_BASE_URL: 'https://vigil.test' } });
    try {
      expect(
        (
          await t
            .http()
            .get('/dev/outbox')
            .set('Authorization', `Bearer ${await t.adminToken()}`)
        ).status,
      ).toBe(404);
    } finally {
      await t.close();
    }
  });
});
