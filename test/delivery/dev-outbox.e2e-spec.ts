import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { bookPerson, register } from '../support/registrations.js';
import { FakeTwilio } from '../support/fake-twilio.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { createSource, event, personWith, postEvents } from '../support/sources.js';
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

  it('#11.10 every read of the outbox is audited, and the stored subject carries no name', async () => {
    const source = await createSource(t);
    const person = personWith('OUTBOX-2', { firstName: 'Ignatius', lastName: 'Outboxley' });
    const personId = await bookPerson(t, source, 'OUTBOX-2', { firstName: 'Ignatius', lastName: 'Outboxley' });
    const specialist = await t.staffToken('specialist');
    const enrolled = await t
      .http()
      .post('/v1/enrollments')
      .set('Authorization', `Bearer ${specialist}`)
      .send({ personId, language: 'en', contacts: [{ channel: 'email', address: 'subject.victim@example.org' }] });
    expect(enrolled.status).toBe(201);
    expect((await postEvents(t, source, event({ type: 'RELEASED', person }))).status).toBe(202);
    await t.app.get(DispatcherService).drain();

    const { rows } = await t.db.query(`SELECT subject FROM dev_outbox`);
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toMatch(/Outboxley|Ignatius/);

    const admin = await t.adminToken();
    const outbox = await t.http().get('/dev/outbox').set('Authorization', `Bearer ${admin}`).set('X-Forwarded-For', '198.51.100.7');
    const alert = outbox.body.messages.find((m: { to: string }) => m.to === 'subject.victim@example.org');
    expect(alert.subject).toContain('Ignatius Outboxley');
    const audit = await t.http().get('/v1/admin/audit?limit=1000').set('Authorization', `Bearer ${admin}`);
    const reads = audit.body.entries.filter((e: { action: string }) => e.action === 'dev_outbox.read');
    expect(reads.length).toBeGreaterThanOrEqual(2);
    expect(reads[0]).toMatchObject({ actorStaffId: expect.any(String), actorRole: 'admin', targetType: 'dev_outbox' });
    expect(JSON.stringify(reads)).not.toMatch(/subject\.victim|Outboxley|Vigil code/);
  });
});

describe('dev outbox with providers and no DEV_OUTBOX', () => {
  it('#11.10 is not served', async () => {
    const smtp = new SmtpSink();
    const twilio = new FakeTwilio();
    await Promise.all([smtp.start(), twilio.start()]);
    const t = await startTestApp({
      env: {
        DEV_OUTBOX: 'false',
        SMTP_URL: smtp.url,
        TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
        TWILIO_AUTH_TOKEN: 'token',
        TWILIO_FROM_NUMBER: '+15005550006',
        TWILIO_API_BASE_URL: twilio.baseUrl,
      },
    });
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
      await Promise.all([smtp.stop(), twilio.stop()]);
    }
  });
});
