import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSource, event, postEvents, signature } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('sources, keys and signatures', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('creates a source with a key and a whsec_ secret shown once, and stores neither in clear', async () => {
    const source = await createSource(t, { name: 'County JMS', facilityCodes: ['hcj-1'], expectedIntervalSeconds: 300 });
    expect(source.apiKey).toMatch(/^vgl_[A-Za-z0-9_-]{43}$/);
    expect(source.signingSecret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(source.signingSecret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);

    const listed = await t
      .http()
      .get('/v1/admin/sources')
      .set('Authorization', `Bearer ${await t.adminToken()}`);
    expect(listed.status).toBe(200);
    const mine = listed.body.find((s: { sourceId: string }) => s.sourceId === source.sourceId);
    expect(mine).toMatchObject({ name: 'County JMS', facilityCodes: ['HCJ-1'], signingRequired: false, expectedIntervalSeconds: 300 });
    expect(mine.keys).toHaveLength(1);
    expect(JSON.stringify(listed.body)).not.toContain(source.apiKey);
    expect(JSON.stringify(listed.body)).not.toContain(source.signingSecret.slice(6));

    const { rows } = await t.db.query(
      `SELECT s.signing_secret, k.key_hash FROM source s JOIN source_key k ON k.source_id = s.id WHERE s.id = $1`,
      [source.sourceId],
    );
    expect(rows[0].signing_secret).not.toContain(source.signingSecret.slice(6));
    expect(rows[0].key_hash.toString('hex')).not.toContain(Buffer.from(source.apiKey).toString('hex'));
  });

  it('refuses a duplicate name, bad fields, and non-admins', async () => {
    const admin = await t.adminToken();
    await createSource(t, { name: 'Twice' });
    expect((await t.http().post('/v1/admin/sources').set('Authorization', `Bearer ${admin}`).send({ name: 'Twice' })).status).toBe(409);
    const bad = await t
      .http()
      .post('/v1/admin/sources')
      .set('Authorization', `Bearer ${admin}`)
      .send({ name: '', facilityCodes: ['ok', 'bad code!'], expectedIntervalSeconds: 0 });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['expectedIntervalSeconds', 'facilityCodes', 'name']);
    // An empty list would let the source report nowhere; omitting it is how to allow any facility.
    const none = await t
      .http()
      .post('/v1/admin/sources')
      .set('Authorization', `Bearer ${admin}`)
      .send({ name: 'Nowhere', facilityCodes: [] });
    expect(none.status).toBe(422);
    expect(none.body.errors).toEqual([{ path: 'facilityCodes', message: expect.stringContaining('at least one') }]);
    const specialist = await t.staffToken('specialist');
    expect((await t.http().post('/v1/admin/sources').set('Authorization', `Bearer ${specialist}`).send({ name: 'x' })).status).toBe(403);
    expect((await t.http().get('/v1/admin/sources')).status).toBe(401);
  });

  it('rotates keys: two active at most, the old one stops when revoked, the last cannot be revoked', async () => {
    const admin = await t.adminToken();
    const source = await createSource(t);
    const second = await t.http().post(`/v1/admin/sources/${source.sourceId}/keys`).set('Authorization', `Bearer ${admin}`);
    expect(second.status).toBe(201);
    expect((await t.http().post(`/v1/admin/sources/${source.sourceId}/keys`).set('Authorization', `Bearer ${admin}`)).status).toBe(409);

    expect((await postEvents(t, source, event())).status).toBe(202);
    expect((await postEvents(t, { ...source, apiKey: second.body.apiKey }, event())).status).toBe(202);

    const listed = await t.http().get('/v1/admin/sources').set('Authorization', `Bearer ${admin}`);
    const oldKey = listed.body
      .find((s: { sourceId: string }) => s.sourceId === source.sourceId)
      .keys.find((k: { keyId: string }) => k.keyId !== second.body.keyId);
    expect(
      (await t.http().delete(`/v1/admin/sources/${source.sourceId}/keys/${oldKey.keyId}`).set('Authorization', `Bearer ${admin}`)).status,
    ).toBe(204);
    expect((await postEvents(t, source, event())).status).toBe(401);
    expect((await postEvents(t, { ...source, apiKey: second.body.apiKey }, event())).status).toBe(202);
    const last = await t
      .http()
      .delete(`/v1/admin/sources/${source.sourceId}/keys/${second.body.keyId}`)
      .set('Authorization', `Bearer ${admin}`);
    expect(last.status).toBe(409);
  });

  it('refuses unknown keys and facilities outside the source', async () => {
    const source = await createSource(t, { facilityCodes: ['HCJ-1'] });
    expect((await postEvents(t, { ...source, apiKey: 'vgl_wrong' }, event())).status).toBe(401);
    const other = await postEvents(t, source, event({ facility: { code: 'OTHER-9' } }));
    expect(other.status).toBe(403);
    const { rowCount } = await t.db.query(`SELECT 1 FROM facility WHERE code = 'OTHER-9'`);
    expect(rowCount).toBe(0);
  });

  it('#11.18 a transfer to a facility outside the source is refused like a facility outside it, alone or in a batch', async () => {
    const source = await createSource(t, { facilityCodes: ['HCJ-1', 'HCJ-2'] });
    const transfer = (to: string) => event({ type: 'TRANSFERRED', toFacility: { code: to, name: 'Elsewhere' } });
    const outside = await postEvents(t, source, event({ facility: { code: 'OTHER-8' } }));
    expect(outside.status).toBe(403);

    const single = await postEvents(t, source, transfer('OTHER-7'));
    expect(single.status).toBe(outside.status);
    expect(single.body.code).toBe(outside.body.code);
    const batchBody = { events: [transfer('HCJ-2'), transfer('other-6')] };
    const batch = await postEvents(t, source, batchBody);
    expect(batch.status).toBe(outside.status);
    expect(batch.body.code).toBe(outside.body.code);
    // Nothing of a refused request is recorded, the in-scope transfer of the batch included.
    const { rowCount } = await t.db.query(`SELECT 1 FROM facility WHERE code IN ('OTHER-6', 'OTHER-7')`);
    expect(rowCount).toBe(0);
    const recorded = await t.db.query(`SELECT 1 FROM custody_event WHERE source_event_id = $1`, [batchBody.events[0].sourceEventId]);
    expect(recorded.rowCount).toBe(0);

    const inside = await postEvents(t, source, transfer('hcj-2'));
    expect(inside.status).toBe(202);
  });

  describe('Standard Webhooks signatures', () => {
    it('a signing source needs a valid, fresh, unreplayed signature', async () => {
      const source = await createSource(t, { signingRequired: true });
      const body = event();
      expect((await postEvents(t, source, body)).status).toBe(401);
      expect((await postEvents(t, source, body, { sign: true, secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}` })).status).toBe(
        401,
      );
      const stale = await postEvents(t, source, body, { sign: true, timestamp: new Date(Date.now() - 6 * 60_000) });
      expect(stale.status).toBe(401);
      expect(stale.body.code).toBe('SIGNATURE_INVALID');
      const future = await postEvents(t, source, body, { sign: true, timestamp: new Date(Date.now() + 6 * 60_000) });
      expect(future.status).toBe(401);

      const ok = await postEvents(t, source, body, { sign: true, webhookId: 'msg_once' });
      expect(ok.status).toBe(202);
      expect(ok.body.results[0].status).toBe('accepted');

      // A sender retrying the message (same id, same body) is answered like any replay: duplicate.
      const retry = await postEvents(t, source, body, { sign: true, webhookId: 'msg_once' });
      expect(retry.status).toBe(202);
      expect(retry.body.results[0]).toMatchObject({ status: 'duplicate', eventId: ok.body.results[0].eventId });

      const replay = await postEvents(t, source, event(), { sign: true, webhookId: 'msg_once' });
      expect(replay.status).toBe(401);
      expect(replay.body.code).toBe('WEBHOOK_REPLAYED');
      const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM custody_event WHERE source_id = $1`, [source.sourceId]);
      expect(rows[0].n).toBe(1);
    });

    it('the signature covers the exact body', async () => {
      const source = await createSource(t, { signingRequired: true });
      const raw = JSON.stringify(event());
      const headers = signature(source.signingSecret, raw);
      const tampered = raw.replace('John', 'Jane');
      const req = t
        .http()
        .post('/v1/custody-events')
        .set('Authorization', `Bearer ${source.apiKey}`)
        .set('Content-Type', 'application/json');
      for (const [name, value] of Object.entries(headers)) req.set(name, value);
      expect((await req.send(tampered)).status).toBe(401);
    });

    it('a webhook-id whose request failed validation can be used again', async () => {
      const source = await createSource(t, { signingRequired: true });
      const bad = await postEvents(t, source, event({ type: 'NOPE' }), { sign: true, webhookId: 'msg_retry' });
      expect(bad.status).toBe(422);
      expect((await postEvents(t, source, event(), { sign: true, webhookId: 'msg_retry' })).status).toBe(202);
    });

    it('an unsigned-by-default source that sends a bad signature is refused', async () => {
      const source = await createSource(t);
      const res = await postEvents(t, source, event(), { sign: true, secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}` });
      expect(res.status).toBe(401);
    });
  });
});
