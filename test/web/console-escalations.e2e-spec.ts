import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/common/crypto/field-cipher.js';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { StaffAlertsService } from '../../src/delivery/staff-alerts.service.js';
import { consoleSignIn, csrfOn, newStaff } from '../support/console.js';
import { ManualClock } from '../support/manual-clock.js';
import { bookPerson, latestCode, register } from '../support/registrations.js';
import { enrol } from '../support/roster-people.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { ADMIN, startTestApp, type TestApp } from '../support/test-app.js';

const MINUTE = 60_000;
const NOTE = 'Called her at 03:10; she is staying at her sister’s on Elm Street. Safety plan reviewed.';

describe('#14 escalations inbox: unconfirmed urgent alerts, acknowledged and resolved with a note, counted on every console page', () => {
  const clock = new ManualClock(new Date());
  let t: TestApp;
  let source: TestSource;
  let mine: { email: string; password: string; token: string };
  let theirs: { email: string; password: string; token: string };
  /** Escalated notification ids: the first specialist's victim, the second's, a self-registered victim's. */
  const ids = { mine: '', theirs: '', self: '' };
  const registrations = { mine: '', theirs: '', self: '' };
  const identifiers = { mine: `ESC-MINE-${Date.now()}`, theirs: `ESC-THEIRS-${Date.now()}`, self: `ESC-SELF-${Date.now()}` };

  const release = async (identifier: string, firstName: string) => {
    const res = await postEvents(
      t,
      source,
      event({ type: 'RELEASED', person: personWith(identifier, { firstName, lastName: 'Escalated' }) }),
    );
    expect(res.status, res.text).toBe(202);
    await t.app.get(DispatcherService).drain();
  };
  const notificationOf = async (registrationId: string) => {
    const { rows } = await t.db.query(`SELECT id FROM notification WHERE registration_id = $1`, [registrationId]);
    expect(rows).toHaveLength(1);
    return rows[0].id as string;
  };
  const escalationRow = async (id: string) => (await t.db.query(`SELECT * FROM escalation WHERE id = $1`, [id])).rows[0];
  const navCount = (page: { text: string }) => Number(/data-open-escalations="(\d+)"/.exec(page.text)?.[1]);
  const api = (token: string) => ({
    get: (path: string) => t.http().get(path).set('Authorization', `Bearer ${token}`),
    post: (path: string, body?: unknown) => {
      const req = t.http().post(path).set('Authorization', `Bearer ${token}`);
      return body === undefined ? req : req.send(body as object);
    },
  });

  beforeAll(async () => {
    t = await startTestApp({ clock });
    source = await createSource(t);
    const staff = async () => {
      const created = await newStaff(t, 'specialist');
      return { ...created, token: await t.loginAs(created.email, created.password) };
    };
    mine = await staff();
    theirs = await staff();
    const minePerson = await bookPerson(t, source, identifiers.mine, { firstName: 'Adaline', lastName: 'Escalated' });
    const theirsPerson = await bookPerson(t, source, identifiers.theirs, { firstName: 'Bertram', lastName: 'Escalated' });
    const selfPerson = await bookPerson(t, source, identifiers.self, { firstName: 'Cordelia', lastName: 'Escalated' });
    registrations.mine = await enrol(t, mine.token, minePerson, 'mine-victim@escalations.test');
    registrations.theirs = await enrol(t, theirs.token, theirsPerson, 'theirs-victim@escalations.test');
    // A victim who signed up alone, with a verified email: nobody enrolled them, so admins get the escalation.
    const created = await register(t, {
      personId: selfPerson,
      language: 'en',
      contacts: [{ channel: 'email', address: 'self-victim@escalations.test' }],
    });
    expect(created.status, created.text).toBe(201);
    registrations.self = created.body.registrationId as string;
    const contactId = created.body.contacts[0].contactId as string;
    const verified = await t
      .http()
      .post(`/v1/registrations/${registrations.self}/contacts/${contactId}/verify`)
      .send({ code: await latestCode(t, contactId) });
    expect(verified.status, verified.text).toBe(200);

    // The first release ten minutes before the other two: the inbox puts the one waiting longest first.
    await release(identifiers.mine, 'Adaline');
    clock.advance(10 * MINUTE);
    await release(identifiers.theirs, 'Bertram');
    await release(identifiers.self, 'Cordelia');
    ids.mine = await notificationOf(registrations.mine);
    ids.theirs = await notificationOf(registrations.theirs);
    ids.self = await notificationOf(registrations.self);
  });
  afterAll(() => t.close());

  it('#14 an urgent release nobody confirmed in 30 minutes reaches the enrolling specialist’s inbox and count, not another specialist’s', async () => {
    const browser = await consoleSignIn(t, mine.email, mine.password);
    // Not yet due: nothing escalated, nothing counted.
    clock.advance(19 * MINUTE);
    expect(await t.app.get(StaffAlertsService).escalate()).toBe(0);
    expect(navCount(await browser.get('/console/'))).toBe(0);

    clock.advance(2 * MINUTE);
    expect(await t.app.get(StaffAlertsService).escalate()).toBe(1);
    clock.advance(10 * MINUTE);
    expect(await t.app.get(StaffAlertsService).escalate()).toBe(2);
    clock.advance(5 * MINUTE);

    const inbox = await browser.get('/console/escalations');
    expect(inbox.status).toBe(200);
    expect(inbox.text).toContain(`data-escalation-id="${ids.mine}"`);
    expect(inbox.text).not.toContain(ids.theirs);
    expect(inbox.text).not.toContain(ids.self);
    expect(inbox.text).toContain('Adaline Escalated: Released');
    expect(inbox.text).toContain(`href="/console/victims/${registrations.mine}"`);
    expect(inbox.text).toContain('data-open-minutes="15"');
    expect(inbox.text).toContain('Nobody yet');
    // The count is in the navigation of every console page, linking to the inbox.
    for (const path of ['/console/', '/console/victims', '/console/escalations', `/console/victims/${registrations.mine}`]) {
      const page = await browser.get(path);
      expect(page.status, path).toBe(200);
      expect(navCount(page), path).toBe(1);
      expect(page.text, path).toMatch(
        /<a href="\/console\/escalations" data-open-escalations="1">Escalations <span class="nav-count">1 open<\/span><\/a>/,
      );
    }
    const dashboard = await browser.get('/console/');
    expect(dashboard.text).toMatch(/data-count="openEscalations"><strong>1<\/strong>/);

    const other = await consoleSignIn(t, theirs.email, theirs.password);
    const theirInbox = await other.get('/console/escalations');
    expect(theirInbox.text).toContain(`data-escalation-id="${ids.theirs}"`);
    expect(theirInbox.text).not.toContain(ids.mine);
    expect(navCount(theirInbox)).toBe(1);

    // An admin sees all three, the longest waiting first, the self-registered victim's marked as such.
    const admin = await consoleSignIn(t, ADMIN.email, ADMIN.password);
    const all = await admin.get('/console/escalations');
    const order = [...all.text.matchAll(/data-escalation-id="([^"]+)"/g)].map((m) => m[1]);
    expect(order[0]).toBe(ids.mine);
    expect(order).toEqual(expect.arrayContaining([ids.mine, ids.theirs, ids.self]));
    expect(all.text).toContain('Signed up on their own (no specialist)');
    expect(navCount(all)).toBeGreaterThanOrEqual(3);

    const es = await browser.get('/console/escalations?lang=es');
    expect(es.text).toContain('Escalamientos');
    expect(es.text).toContain('<span class="nav-count">1 pendiente</span>');
    await browser.get('/console/escalations?lang=en');
  });

  it('#14 acknowledge, then resolve with a note: gone from open, the count drops, audited without the note, the note sealed in the database', async () => {
    const browser = await consoleSignIn(t, mine.email, mine.password);
    const inbox = await browser.get('/console/escalations');
    const acknowledged = await browser
      .post(`/console/escalations/${ids.mine}/acknowledge`)
      .type('form')
      .send({ _csrf: csrfOn(inbox) });
    expect(acknowledged.status).toBe(303);
    const first = await escalationRow(ids.mine);
    expect(first.acknowledged_at).not.toBeNull();
    expect(first.resolved_at).toBeNull();
    const after = await browser.get('/console/escalations?done=acknowledged');
    expect(after.text).toContain(mine.email);
    expect(after.text).toContain('data-escalation-state="acknowledged"');
    expect(navCount(after)).toBe(1);

    // Acknowledging twice is harmless: the first acknowledgement stands.
    clock.advance(MINUTE);
    const again = await browser
      .post(`/console/escalations/${ids.mine}/acknowledge`)
      .type('form')
      .send({ _csrf: csrfOn(after) });
    expect(again.status).toBe(303);
    expect((await escalationRow(ids.mine)).acknowledged_at).toEqual(first.acknowledged_at);

    clock.advance(4 * MINUTE);
    const resolved = await browser
      .post(`/console/escalations/${ids.mine}/resolve`)
      .type('form')
      .send({ _csrf: csrfOn(after), note: NOTE });
    expect(resolved.status).toBe(303);
    const open = await browser.get('/console/escalations');
    expect(open.text).not.toContain(ids.mine);
    expect(navCount(open)).toBe(0);
    expect(open.text).toContain('Nothing is waiting');
    const done = await browser.get('/console/escalations?status=resolved');
    expect(done.text).toContain(`data-escalation-id="${ids.mine}"`);
    expect(done.text).toContain('data-escalation-state="resolved"');
    expect(done.text).toContain('Called her at 03:10; she is staying at her sister’s on Elm Street.');

    // Sealed to its row: not the plain text, and unreadable as another row's.
    const row = await escalationRow(ids.mine);
    expect(row.resolved_by).toBeTruthy();
    expect(row.resolution_note).toMatch(/^v2\./);
    expect(row.resolution_note).not.toContain('Elm');
    const cipher = t.app.get(FieldCipher);
    expect(cipher.decrypt(row.resolution_note as string, 'escalation.resolution_note', ids.mine)).toBe(NOTE);
    expect(() => cipher.decrypt(row.resolution_note as string, 'escalation.resolution_note', ids.theirs)).toThrow();

    const { rows: audit } = await t.db.query(
      `SELECT action, actor_staff_id, details::text AS details FROM audit_log WHERE target_id = $1 AND action LIKE 'escalation.%' ORDER BY at, id`,
      [ids.mine],
    );
    expect(audit.map((a: { action: string }) => a.action).sort()).toEqual([
      'escalation.acknowledge',
      'escalation.acknowledge',
      'escalation.resolve',
    ]);
    expect(new Set(audit.map((a: { actor_staff_id: string }) => a.actor_staff_id)).size).toBe(1);
    for (const entry of audit) expect(entry.details).not.toMatch(/Elm|sister|Called/);
    for (const line of t.logs) expect(line).not.toMatch(/Elm Street|sister’s/);

    // The timeline shows the whole history, the note included, to the specialist who may see the victim.
    const timeline = await browser.get(`/console/victims/${registrations.mine}`);
    expect(timeline.status).toBe(200);
    expect(timeline.text).toContain('data-escalation-state="resolved"');
    expect(timeline.text).toContain(`Acknowledged by ${mine.email}`);
    expect(timeline.text).toContain(`Resolved by ${mine.email}`);
    expect(timeline.text).toContain('Safety plan reviewed.');

    // Resolving is final: a second resolution is refused and the first note stands.
    const twice = await browser
      .post(`/console/escalations/${ids.mine}/resolve`)
      .type('form')
      .send({ _csrf: csrfOn(done), note: 'something else' });
    expect(twice.status).toBe(409);
    expect(twice.headers['content-type']).toMatch(/^text\/html/);
    expect((await escalationRow(ids.mine)).resolution_note).toBe(row.resolution_note);
    // So is the database's rule, whoever writes.
    await expect(
      t.db.query(`UPDATE escalation SET resolved_at = NULL, resolved_by = NULL, resolution_note = NULL WHERE id = $1`, [ids.mine]),
    ).rejects.toThrow(/final/);
  });

  it('#14 resolving without a note, or with one too long, shows the form again with a 422 and the field’s error; nothing changes', async () => {
    const admin = await consoleSignIn(t, ADMIN.email, ADMIN.password);
    const inbox = await admin.get('/console/escalations');
    const before = await escalationRow(ids.self);
    for (const note of [undefined, '', '   \n  ', 'x'.repeat(2001)]) {
      const res = await admin
        .post(`/console/escalations/${ids.self}/resolve`)
        .type('form')
        .send(note === undefined ? { _csrf: csrfOn(inbox) } : { _csrf: csrfOn(inbox), note });
      expect(res.status, String(note?.length)).toBe(422);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain(`id="field-note-${ids.self}"`);
      expect(res.text).toMatch(new RegExp(`id="field-note-${ids.self}"[^>]*aria-invalid="true"`));
      expect(res.text).toContain(
        note && note.length > 2000 ? 'Keep the note under 2000 characters.' : 'Write what was done before you resolve.',
      );
      expect(res.text).toContain(`href="#field-note-${ids.self}"`);
    }
    expect(await escalationRow(ids.self)).toEqual(before);
    expect(
      (await t.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE target_id = $1 AND action LIKE 'escalation.%'`, [ids.self])).rows[0]
        .n,
    ).toBe(0);

    // An admin resolves the self-registered victim's escalation without acknowledging first: resolving acknowledges too.
    const resolved = await admin
      .post(`/console/escalations/${ids.self}/resolve`)
      .type('form')
      .send({ _csrf: csrfOn(inbox), note: 'Left a voicemail and an email; she called back and knows.' });
    expect(resolved.status).toBe(303);
    const row = await escalationRow(ids.self);
    expect(row.acknowledged_at).toEqual(row.resolved_at);
    const timeline = await admin.get(`/console/victims/${registrations.self}`);
    expect(timeline.status).toBe(200);
    expect(timeline.text).toContain('she called back and knows.');
  });

  it('#14 another specialist’s escalation is the same 404 as a missing one, and a form without its CSRF token is refused', async () => {
    const browser = await consoleSignIn(t, mine.email, mine.password);
    const inbox = await browser.get('/console/escalations');
    const before = await escalationRow(ids.theirs);
    for (const action of ['acknowledge', 'resolve']) {
      const theirsRes = await browser
        .post(`/console/escalations/${ids.theirs}/${action}`)
        .type('form')
        .send({ _csrf: csrfOn(inbox), note: 'not mine' });
      const missing = await browser
        .post(`/console/escalations/${randomUUID()}/${action}`)
        .type('form')
        .send({ _csrf: csrfOn(inbox), note: 'not mine' });
      expect(theirsRes.status, action).toBe(404);
      expect(missing.status, action).toBe(404);
      const body = (text: string) => /<main[^]*<\/main>/.exec(text)?.[0].replace(/[0-9a-f-]{36}/g, '');
      expect(body(theirsRes.text)).toBe(body(missing.text));
      expect(theirsRes.text).not.toContain('Bertram');
    }
    // Even a bad note: whose it is is checked before the form comes back.
    const blank = await browser
      .post(`/console/escalations/${ids.theirs}/resolve`)
      .type('form')
      .send({ _csrf: csrfOn(inbox), note: '' });
    expect(blank.status).toBe(404);
    expect(blank.text).not.toContain('Bertram');

    const other = await consoleSignIn(t, theirs.email, theirs.password);
    await other.get('/console/escalations');
    for (const fields of [{}, { _csrf: 'forged' }, { _csrf: csrfOn(inbox) }]) {
      const forged = await other
        .post(`/console/escalations/${ids.theirs}/resolve`)
        .type('form')
        .send({ ...fields, note: 'forged' });
      expect(forged.status).toBe(403);
      expect(forged.headers['content-type']).toMatch(/^text\/html/);
    }
    expect(await escalationRow(ids.theirs)).toEqual(before);
  });

  it('#14 the API: a specialist lists and handles their own, strict validation, another’s is a 404, an admin handles all', async () => {
    const me = api(mine.token);
    const them = api(theirs.token);
    const listed = await them.get('/v1/escalations');
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.escalations.map((e: { escalationId: string }) => e.escalationId)).toEqual([ids.theirs]);
    expect(listed.body.escalations[0]).toMatchObject({
      registrationId: registrations.theirs,
      enrolled: true,
      personName: 'Bertram Escalated',
      eventType: 'RELEASED',
      correction: false,
      acknowledgedAt: null,
      resolvedAt: null,
      resolutionNote: null,
    });
    const mineResolved = await me.get('/v1/escalations?status=resolved');
    expect(mineResolved.body.escalations).toHaveLength(1);
    expect(mineResolved.body.escalations[0]).toMatchObject({ escalationId: ids.mine, resolutionNote: NOTE, resolvedBy: mine.email });
    expect((await me.get('/v1/escalations')).body.escalations).toEqual([]);

    for (const query of ['?status=closed', '?status=open&status=resolved', '?page=2']) {
      const res = await me.get(`/v1/escalations${query}`);
      expect(res.status, query).toBe(422);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    const bad: [unknown, string][] = [
      [{}, 'note'],
      [{ note: 5 }, 'note'],
      [{ note: ['a'] }, 'note'],
      [{ note: '' }, 'note'],
      [{ note: 'y'.repeat(2001) }, 'note'],
      [{ note: 'fine', status: 'resolved' }, 'status'],
    ];
    for (const [body, path] of bad) {
      const res = await them.post(`/v1/escalations/${ids.theirs}/resolve`, body);
      expect(res.status, JSON.stringify(body).slice(0, 40)).toBe(422);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    const blank = await them.post(`/v1/escalations/${ids.theirs}/resolve`, { note: '  \n ' });
    expect(blank.status).toBe(422);
    expect((await them.post(`/v1/escalations/${ids.theirs}/acknowledge`, { by: 'me' })).status).toBe(422);
    // Not an id at all is missing, as on every route.
    expect((await them.post(`/v1/escalations/not-a-uuid/acknowledge`)).status).toBe(404);

    // Another specialist's escalation answers as a missing one, and nothing changes.
    const before = await escalationRow(ids.theirs);
    for (const action of ['acknowledge', 'resolve']) {
      const res = await me.post(`/v1/escalations/${ids.theirs}/${action}`, action === 'resolve' ? { note: 'not mine' } : undefined);
      const missing = await me.post(`/v1/escalations/${randomUUID()}/${action}`, action === 'resolve' ? { note: 'not mine' } : undefined);
      expect(res.status, action).toBe(404);
      expect(res.body.code).toBe('ESCALATION_NOT_FOUND');
      expect(missing.body.code).toBe('ESCALATION_NOT_FOUND');
    }
    expect(await escalationRow(ids.theirs)).toEqual(before);
    expect((await t.http().get('/v1/escalations')).status).toBe(401);

    const ack = await them.post(`/v1/escalations/${ids.theirs}/acknowledge`);
    expect(ack.status, ack.text).toBe(200);
    expect(ack.body).toMatchObject({ escalationId: ids.theirs, acknowledgedBy: theirs.email, resolvedAt: null });
    clock.advance(MINUTE);
    const ackAgain = await them.post(`/v1/escalations/${ids.theirs}/acknowledge`, {});
    expect(ackAgain.body.acknowledgedAt).toBe(ack.body.acknowledgedAt);
    const res = await them.post(`/v1/escalations/${ids.theirs}/resolve`, { note: 'Reached him by phone.' });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ resolvedBy: theirs.email, resolutionNote: 'Reached him by phone.' });
    const again = await them.post(`/v1/escalations/${ids.theirs}/resolve`, { note: 'again' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('ESCALATION_RESOLVED');

    // An admin sees everyone's, the self-registered victim's included.
    const admin = api(await t.adminToken());
    const all = await admin.get('/v1/escalations?status=resolved');
    expect(all.body.escalations.map((e: { escalationId: string }) => e.escalationId)).toEqual(
      expect.arrayContaining([ids.mine, ids.theirs, ids.self]),
    );
    expect(all.body.escalations.find((e: { escalationId: string }) => e.escalationId === ids.self).enrolled).toBe(false);
    // Each list answered, page or API, is a read of victims' data (two inbox pages and one API list); the refused ones read nothing.
    const { rows } = await t.db.query(
      `SELECT details FROM audit_log WHERE action = 'escalation.list' AND actor_staff_id = (SELECT id FROM staff WHERE email = $1)`,
      [theirs.email],
    );
    expect(rows.map((row: { details: unknown }) => row.details)).toEqual(Array(3).fill({ status: 'open', count: 1 }));
  });

  it('#14 the escalations API is in the OpenAPI document', async () => {
    const docs = await t.http().get('/docs-json');
    expect(docs.body.paths['/v1/escalations'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['status']);
    expect(docs.body.paths['/v1/escalations/{id}/acknowledge'].post).toBeDefined();
    const resolve = docs.body.paths['/v1/escalations/{id}/resolve'].post;
    expect(resolve.requestBody.content['application/json'].schema.$ref).toMatch(/ResolveEscalationDto$/);
    expect(Object.keys(resolve.responses)).toEqual(expect.arrayContaining(['200', '404', '409', '422']));
  });
});
