import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookPerson, register } from '../support/registrations.js';
import { createSource, personWith, putRoster, type TestSource } from '../support/sources.js';
import { consoleSignIn, csrfOn, newStaff } from '../support/console.js';
import { ADMIN, startTestApp, type TestApp } from '../support/test-app.js';

const people = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => personWith(`${prefix}-${from + i}`, { firstName: `P${from + i}`, lastName: prefix }));

describe('#14 console: an admin decides held rosters and retries dead messages', () => {
  let t: TestApp;
  let source: TestSource;

  beforeAll(async () => {
    t = await startTestApp();
    source = await createSource(t);
  });
  afterAll(() => t.close());

  async function heldRoster(code: string): Promise<string> {
    await putRoster(t, source, code, { asOf: '2026-11-20T06:00:00Z', people: people(code, 0, 60) });
    const res = await putRoster(t, source, code, { asOf: '2026-11-21T06:00:00Z', people: people(code, 40, 60) });
    expect(res.body.held).toBe(true);
    return res.body.snapshotId as string;
  }

  it('#14 a held roster shows the people it would release; approving releases them, discarding releases nobody', async () => {
    const approveId = await heldRoster('CH1');
    const discardId = await heldRoster('CH2');
    const admin = await consoleSignIn(t, ADMIN.email, ADMIN.password);
    const page = await admin.get('/console/rosters');
    expect(page.status).toBe(200);
    expect(page.text).toContain(`data-snapshot-id="${approveId}"`);
    expect(page.text).toContain('40 of 60 people would be released');
    expect(page.text).toContain('P0 CH1');

    const approved = await admin
      .post(`/console/rosters/${approveId}/approve`)
      .type('form')
      .send({ _csrf: csrfOn(page) });
    expect(approved.status).toBe(303);
    const discarded = await admin
      .post(`/console/rosters/${discardId}/discard`)
      .type('form')
      .send({ _csrf: csrfOn(page) });
    expect(discarded.status).toBe(303);
    const { rows } = await t.db.query(`SELECT id, status FROM roster_snapshot WHERE id = ANY($1::uuid[]) ORDER BY status`, [
      [approveId, discardId],
    ]);
    expect(rows).toEqual([
      { id: approveId, status: 'approved' },
      { id: discardId, status: 'discarded' },
    ]);
    const released = await t.db.query(`SELECT count(*)::int AS n FROM custody_event WHERE roster_snapshot_id = $1 AND type = 'RELEASED'`, [
      approveId,
    ]);
    expect(released.rows[0].n).toBe(40);
    const none = await t.db.query(`SELECT count(*)::int AS n FROM custody_event WHERE roster_snapshot_id = $1`, [discardId]);
    expect(none.rows[0].n).toBe(0);
    // Deciding twice is refused as the API refuses it: nothing changes.
    const again = await admin
      .post(`/console/rosters/${approveId}/discard`)
      .type('form')
      .send({ _csrf: csrfOn(page) });
    expect(again.status).toBe(404);
    expect(again.headers['content-type']).toMatch(/^text\/html/);
  });

  it('#14 the decisions are refused without CSRF and to a specialist (403 pages)', async () => {
    const id = await heldRoster('CH3');
    const admin = await consoleSignIn(t, ADMIN.email, ADMIN.password);
    await admin.get('/console/rosters');
    const forged = await admin.post(`/console/rosters/${id}/approve`).type('form').send({ _csrf: 'forged' });
    expect(forged.status).toBe(403);
    const staff = await newStaff(t, 'specialist');
    const specialist = await consoleSignIn(t, staff.email, staff.password);
    expect((await specialist.get('/console/rosters')).status).toBe(403);
    const dashboard = await specialist.get('/console/');
    const tried = await specialist
      .post(`/console/rosters/${id}/approve`)
      .type('form')
      .send({ _csrf: csrfOn(dashboard) });
    expect(tried.status).toBe(403);
    const { rows } = await t.db.query(`SELECT status FROM roster_snapshot WHERE id = $1`, [id]);
    expect(rows[0].status).toBe('held');
  });

  it('#14 a dead message is listed and a retry queues a fresh round of attempts', async () => {
    const admin = await consoleSignIn(t, ADMIN.email, ADMIN.password);
    // A verification email, killed as the dispatcher leaves a delivery after its last attempt.
    const personId = await bookPerson(t, source, 'A-710-000-001');
    const created = await register(t, { personId, language: 'en', contacts: [{ channel: 'email', address: 'dead-letter@example.org' }] });
    expect(created.status).toBe(201);
    const { rows } = await t.db.query(`UPDATE delivery SET status = 'dead', last_error = 'smtp_550' WHERE contact_id = $1 RETURNING id`, [
      created.body.contacts[0].contactId,
    ]);
    expect(rows).toHaveLength(1);
    const id = rows[0].id as string;
    const page = await admin.get('/console/deliveries');
    expect(page.text).toContain(`data-delivery-id="${id}"`);
    expect(page.text).toContain('smtp_550');
    const retried = await admin
      .post(`/console/deliveries/${id}/retry`)
      .type('form')
      .send({ _csrf: csrfOn(page) });
    expect(retried.status).toBe(303);
    const after = await t.db.query(`SELECT status FROM delivery WHERE id = $1`, [id]);
    expect(after.rows[0].status).not.toBe('dead');
    const audit = await t.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'delivery.retry' AND target_id = $1`, [id]);
    expect(audit.rows[0].n).toBe(1);
  });
});
