import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/common/crypto/field-cipher.js';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { verifyAttemptChains } from '../../src/delivery/ledger.js';
import { LedgerService } from '../../src/delivery/ledger.service.js';
import { rotateEncryptionKey } from '../../src/registrations/key-rotation.js';
import { RegistrationsService } from '../../src/registrations/registrations.service.js';
import { runRetention } from '../../src/retention/retention.js';
import { RetentionService } from '../../src/retention/retention.service.js';
import { ManualClock } from '../support/manual-clock.js';
import { bookPerson, enrolEveryChannel } from '../support/registrations.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { ADMIN, startTestApp, type TestApp } from '../support/test-app.js';

const DAY = 24 * 60 * 60 * 1000;
const RETENTION_DAYS = 365;
const PAYLOAD_DAYS = 90;

interface Enrolled {
  registrationId: string;
  manageToken: string;
}

describe('#15 retention', () => {
  // Starts at the real time: custody events are stamped received by the database's clock.
  const clock = new ManualClock();
  let t: TestApp;
  let source: TestSource;
  let personId: string;
  let ended: Enrolled;
  let recent: Enrolled;
  let active: Enrolled;
  let releaseEvent: Record<string, unknown>;
  const contactsOf = (n: number) => ({ email: `retained${n}.victim@example.org`, sms: `+1713555${n}101`, voice: `+1713555${n}102` });

  beforeAll(async () => {
    // RETENTION_DAYS is left to its default (365).
    t = await startTestApp({ clock, env: { EVENT_PAYLOAD_RETENTION_DAYS: String(PAYLOAD_DAYS), PUBLIC_RATE_LIMIT_PER_MINUTE: '1000' } });
    source = await createSource(t);
    personId = await bookPerson(t, source, 'RETAIN-1');
    const specialist = await t.staffToken('specialist');
    ended = await enrolEveryChannel(t, specialist, personId, contactsOf(1), { registrantName: 'Rosalind Erasable' });
    recent = await enrolEveryChannel(t, specialist, personId, contactsOf(2), { registrantName: 'Beatrix Recentstop' });
    active = await enrolEveryChannel(t, specialist, personId, contactsOf(3), { registrantName: 'Carmen Stillactive' });
    clock.advance(5 * 60_000);
    releaseEvent = event({ type: 'RELEASED', person: personWith('RETAIN-1') });
    expect((await postEvents(t, source, releaseEvent)).body.results[0].notificationsPlanned).toBe(3);
    await t.app.get(DispatcherService).drain();

    const [admin] = (await t.db.query(`SELECT id FROM staff WHERE email = $1`, [ADMIN.email])).rows as { id: string }[];
    const staff = {
      kind: 'staff' as const,
      staff: { staffId: admin.id, email: ADMIN.email, role: 'admin' as const },
      clientAddress: '127.0.0.1',
    };
    await t.app.get(RegistrationsService).stop(ended.registrationId, staff, 'Moved in with her sister on Elm Street');
    // A reason from before reasons were sealed, kept in the audit log, and a victim's own request from their address.
    await t.db.query(
      `INSERT INTO audit_log (at, action, target_type, target_id, client_address, details)
       VALUES ($1, 'registration.stop', 'registration', $2, '203.0.113.77', '{"reason": "Legacy reason naming Elm Street"}')`,
      [clock.now(), ended.registrationId],
    );
    clock.advance(2 * DAY);
    await t.app.get(RegistrationsService).stop(recent.registrationId, staff, 'Asked to stop');
    // The ended one ended RETENTION_DAYS+1 days ago, the recent one RETENTION_DAYS-1 days ago.
    clock.advance((RETENTION_DAYS - 1) * DAY);
  });
  afterAll(() => t?.close());

  async function ledgerOf(registrationId: string) {
    const { rows } = await t.db.query(
      `SELECT (SELECT count(*) FROM notification WHERE registration_id = $1)::int AS notifications,
              (SELECT count(*) FROM delivery d JOIN contact c ON c.id = d.contact_id WHERE c.registration_id = $1)::int AS deliveries,
              (SELECT count(*) FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id JOIN contact c ON c.id = d.contact_id
               WHERE c.registration_id = $1)::int AS attempts,
              (SELECT count(*) FROM dev_outbox o JOIN delivery d ON d.id = o.delivery_id JOIN contact c ON c.id = d.contact_id
               WHERE c.registration_id = $1)::int AS outbox`,
      [registrationId],
    );
    return rows[0] as { notifications: number; deliveries: number; attempts: number; outbox: number };
  }

  async function personal(registrationId: string) {
    const { rows } = await t.db.query(
      `SELECT r.registrant_name, r.stop_reason, r.manage_token, r.pin_hash, r.erased_at,
              array_agg(c.address ORDER BY c.position) AS addresses, array_agg(length(c.address_index) ORDER BY c.position) AS index_lengths
       FROM registration r JOIN contact c ON c.registration_id = r.id WHERE r.id = $1 GROUP BY r.id`,
      [registrationId],
    );
    return rows[0] as {
      registrant_name: string | null;
      stop_reason: string | null;
      manage_token: string | null;
      pin_hash: string | null;
      erased_at: Date | null;
      addresses: string[];
      index_lengths: number[];
    };
  }

  it('#15 refuses ordinary changes to the append-only tables, and lets the retention door through only for what it erases', async () => {
    const refused = async (sql: string, retention = false) => {
      const client = await t.db.connect();
      try {
        await client.query('BEGIN');
        if (retention) await client.query(`SET LOCAL vigil.retention = 'on'`);
        await client.query(sql);
        return false;
      } catch (error) {
        return /append-only/.test((error as Error).message);
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    };
    expect(await refused(`UPDATE audit_log SET details = NULL`)).toBe(true);
    expect(await refused(`DELETE FROM audit_log`)).toBe(true);
    expect(await refused(`UPDATE delivery_attempt SET response_excerpt = NULL WHERE outcome IS NOT NULL`)).toBe(true);
    expect(await refused(`DELETE FROM delivery_attempt`)).toBe(true);
    // Even inside a retention transaction: no delete, no other column, nothing the hash chain covers.
    expect(await refused(`DELETE FROM audit_log`, true)).toBe(true);
    expect(await refused(`UPDATE audit_log SET action = 'rewritten'`, true)).toBe(true);
    expect(await refused(`UPDATE audit_log SET client_address = '198.51.100.1'`, true)).toBe(true);
    // Any session may set the flag, so it lets only the one erasure of details through: dropping `reason`.
    expect(await refused(`UPDATE audit_log SET details = '{"rewritten": true}'::jsonb`, true)).toBe(true);
    expect(await refused(`UPDATE audit_log SET details = details || '{"rewritten": true}'::jsonb WHERE details IS NOT NULL`, true)).toBe(
      true,
    );
    expect(await refused(`DELETE FROM delivery_attempt`, true)).toBe(true);
    expect(await refused(`UPDATE delivery_attempt SET error_code = 'x' WHERE outcome IS NOT NULL`, true)).toBe(true);
    expect(await refused(`UPDATE delivery_attempt SET response_excerpt = 'rewritten' WHERE outcome IS NOT NULL`, true)).toBe(true);
    // What retention does passes.
    expect(await refused(`UPDATE audit_log SET details = details - 'reason', client_address = NULL`, true)).toBe(false);
    expect(await refused(`UPDATE delivery_attempt SET response_excerpt = NULL WHERE outcome IS NOT NULL`, true)).toBe(false);
  });

  it('#15 a dry run counts and changes nothing', async () => {
    const before = await personal(ended.registrationId);
    const dry = await runRetention(t.app.get(DataSource), t.config.retention, clock, { dryRun: true });
    expect(dry).toMatchObject({ ran: true, dryRun: true, counts: { registrations: 1, contacts: 3, eventPayloads: expect.any(Number) } });
    expect(await personal(ended.registrationId)).toEqual(before);
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'retention.run'`);
    expect(rows[0].n).toBe(0);
  });

  it('#15 erases a registration ended RETENTION_DAYS+1 days ago, keeps one ended RETENTION_DAYS-1 days ago and an active one; the ledger stays and verifies; the run audits counts once across two instances', async () => {
    const ledgerBefore = await ledgerOf(ended.registrationId);
    expect(ledgerBefore.notifications).toBeGreaterThanOrEqual(1);
    expect(ledgerBefore.attempts).toBeGreaterThanOrEqual(ledgerBefore.deliveries);
    expect(ledgerBefore.outbox).toBeGreaterThan(0);
    const recentBefore = await personal(recent.registrationId);
    const activeBefore = await personal(active.registrationId);
    expect(await verifyAttemptChains(t.app.get(DataSource))).toEqual([]);

    // A second instance of the app on the same database: the daily job runs once between them.
    const second = await startTestApp({
      clock,
      databaseUrl: t.config.database.url!,
      env: { EVENT_PAYLOAD_RETENTION_DAYS: String(PAYLOAD_DAYS) },
    });
    try {
      const runs = await Promise.all([t.app.get(RetentionService).runIfDue(), second.app.get(RetentionService).runIfDue()]);
      expect(runs.filter((run) => run.ran)).toHaveLength(1);
      expect((await second.app.get(RetentionService).runIfDue()).ran).toBe(false);
      expect((await t.app.get(RetentionService).runIfDue()).ran).toBe(false);
    } finally {
      await second.close();
    }

    const { rows: audits } = await t.db.query(`SELECT actor_role, details FROM audit_log WHERE action = 'retention.run'`);
    expect(audits).toHaveLength(1);
    // #15: the workers' daily run has no operator behind it.
    expect(audits[0].actor_role).toBe('system');
    expect(audits[0].details).toMatchObject({
      registrations: 1,
      contacts: 3,
      outboxMessages: ledgerBefore.outbox,
      auditEntries: 1,
      eventPayloads: expect.any(Number),
      retentionDays: RETENTION_DAYS,
      eventPayloadRetentionDays: PAYLOAD_DAYS,
    });
    expect(audits[0].details.eventPayloads).toBeGreaterThanOrEqual(2);

    const erased = await personal(ended.registrationId);
    expect(erased).toMatchObject({ registrant_name: null, stop_reason: null, manage_token: null, pin_hash: null });
    expect(erased.erased_at).not.toBeNull();
    expect(erased.addresses).toEqual(['', '', '']);
    expect(erased.index_lengths).toEqual([0, 0, 0]);
    expect(await ledgerOf(ended.registrationId)).toEqual({ ...ledgerBefore, outbox: 0 });
    const { rows: codes } = await t.db.query(
      `SELECT count(*)::int AS n FROM delivery d JOIN contact c ON c.id = d.contact_id WHERE c.registration_id = $1 AND d.secret IS NOT NULL`,
      [ended.registrationId],
    );
    expect(codes[0].n).toBe(0);
    const { rows: legacy } = await t.db.query(
      `SELECT details, client_address FROM audit_log WHERE target_id = $1 AND action = 'registration.stop' ORDER BY at`,
      [ended.registrationId],
    );
    expect(JSON.stringify(legacy)).not.toMatch(/Elm Street|203\.0\.113\.77/);
    expect(await verifyAttemptChains(t.app.get(DataSource))).toEqual([]);

    expect(await personal(recent.registrationId)).toEqual(recentBefore);
    expect(await personal(active.registrationId)).toEqual(activeBefore);
    expect((await ledgerOf(recent.registrationId)).outbox).toBeGreaterThan(0);

    // The erased registration's manage link and id reveal nothing: answered as for one that never existed.
    const unknown = await t
      .http()
      .get(`/v1/registrations/${ended.registrationId}`)
      .set('Authorization', `Bearer vmt_${'x'.repeat(43)}`);
    const viaToken = await t.http().get(`/v1/registrations/${ended.registrationId}`).set('Authorization', `Bearer ${ended.manageToken}`);
    expect(viaToken.status).toBe(unknown.status);
    expect(viaToken.body).toEqual(unknown.body);
    const page = await t.http().get(`/en/manage?token=${encodeURIComponent(ended.manageToken)}`);
    const unknownPage = await t.http().get(`/en/manage?token=vmt_${'x'.repeat(43)}`);
    expect(page.status).toBe(404);
    expect(unknownPage.status).toBe(404);
    expect(page.text).not.toMatch(/Rosalind|retained1|5551101/);
    const asAdmin = await t
      .http()
      .get(`/v1/registrations/${ended.registrationId}`)
      .set('Authorization', `Bearer ${await t.adminToken()}`);
    expect(asAdmin.status).toBe(404);
    expect(JSON.stringify(asAdmin.body)).not.toMatch(/Rosalind|retained1|5551101/);
    // Its alerts stay in the ledger, with no address (staff see the registration no more).
    const history = await t
      .http()
      .get(`/v1/registrations/${ended.registrationId}/notifications`)
      .set('Authorization', `Bearer ${await t.adminToken()}`);
    expect(history.status).toBe(404);
    const views = await t.app.get(LedgerService).forRegistration(ended.registrationId);
    expect(views).toHaveLength(ledgerBefore.notifications);
    expect(views.flatMap((view) => view.deliveries.map((delivery) => delivery.address))).toEqual(Array(ledgerBefore.deliveries).fill(''));

    // A day later the job is due again.
    clock.advance(DAY);
    expect((await t.app.get(RetentionService).runIfDue()).ran).toBe(true);
    const { rows: more } = await t.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'retention.run'`);
    expect(more[0].n).toBe(2);
  });

  it('#15 a replay of an event whose payload was cleared is still a duplicate, and another body under its id still a conflict', async () => {
    const { rows } = await t.db.query(`SELECT payload, payload_cleared_at FROM custody_event WHERE source_event_id = $1`, [
      releaseEvent.sourceEventId,
    ]);
    expect(rows[0].payload).toEqual({});
    expect(rows[0].payload_cleared_at).not.toBeNull();
    const again = await postEvents(t, source, releaseEvent);
    expect(again.status).toBe(202);
    expect(again.body.results[0].status).toBe('duplicate');
    const conflict = await postEvents(t, source, { ...releaseEvent, facility: { code: 'HCJ-1', name: 'Harris County Jail Annex' } });
    expect(conflict.status).toBe(409);
  });

  it('#15 the built commands: ledger:verify passes after erasure, and retention:run --dry-run prints counts', async () => {
    const env = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      DATABASE_URL: t.config.database.url!,
      ENCRYPTION_KEY: t.config.security.encryptionKey.toString('base64'),
      JWT_SECRET: t.config.security.jwtSecret,
      DEV_OUTBOX: 'true',
      LOG_LEVEL: 'warn',
    };
    const run = promisify(execFile);
    const verified = await run(process.execPath, ['dist/src/cli/vigil.js', 'ledger:verify'], { env });
    expect(verified.stdout).toMatch(/Ledger check passed: \d+ attempts, every chain intact/);
    const dry = await run(process.execPath, ['dist/src/cli/vigil.js', 'retention:run', '--dry-run'], { env });
    expect(dry.stdout).toMatch(
      /^Dry run, nothing changed\. Would erase \d+ registrations: \d+ contacts,.* would clear \d+ event payloads\.$/m,
    );
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'retention.run'`);
    expect(rows[0].n).toBe(2);
  });

  it('#15 a key rotation passes over erased contacts and still re-encrypts the others', async () => {
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM contact WHERE address <> ''`);
    const next = randomBytes(32);
    const cipher = new FieldCipher(next, [t.config.security.encryptionKey]);
    const db = t.app.get(DataSource);
    const result = await rotateEncryptionKey((work) => db.transaction((tx) => work(tx)), cipher);
    expect(result.contacts).toBe(rows[0].n);
    const { rows: stale } = await t.db.query(`SELECT count(*)::int AS n FROM contact WHERE address <> '' AND key_id <> $1`, [
      cipher.currentKeyId,
    ]);
    expect(stale[0].n).toBe(0);
    expect((await personal(ended.registrationId)).addresses).toEqual(['', '', '']);
  });
});
