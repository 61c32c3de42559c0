import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecordDto } from '../../src/common/audit.service.js';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { bookPerson, register } from '../support/registrations.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { createSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

type Entry = AuditRecordDto;

describe('the audit log (#11.19)', () => {
  let t: TestApp;
  let smtp: SmtpSink;
  let admin: string;
  let adminId: string;

  beforeAll(async () => {
    smtp = new SmtpSink();
    await smtp.start();
    t = await startTestApp({ env: { SMTP_URL: smtp.url, RETRY_MAX_ATTEMPTS_EMAIL: '1', PUBLIC_RATE_LIMIT_PER_MINUTE: '1000' } });
    admin = await t.adminToken();
    const staff = await t.http().get('/v1/admin/staff').set('Authorization', `Bearer ${admin}`);
    adminId = staff.body.find((s: { role: string }) => s.role === 'admin').staffId;
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.stop();
  });

  async function entries(): Promise<Entry[]> {
    const res = await t.http().get('/v1/admin/audit?limit=1000').set('Authorization', `Bearer ${admin}`);
    expect(res.status).toBe(200);
    return res.body.entries as Entry[];
  }

  it('#11.19 staff create and disable, source create and key changes and dead-delivery retries are audited, without secrets', async () => {
    const password = 'audit-canary-password-1';
    const created = await t
      .http()
      .post('/v1/admin/staff')
      .set('Authorization', `Bearer ${admin}`)
      .send({ email: 'audited.staffer@example.org', password, role: 'specialist' });
    expect(created.status).toBe(201);
    const staffId = created.body.staffId as string;
    expect(
      (await t.http().patch(`/v1/admin/staff/${staffId}`).set('Authorization', `Bearer ${admin}`).send({ disabled: true })).status,
    ).toBe(200);

    const source = await createSource(t, { name: 'Audited County Feed' });
    const key = await t.http().post(`/v1/admin/sources/${source.sourceId}/keys`).set('Authorization', `Bearer ${admin}`);
    expect(key.status).toBe(201);
    const revoked = await t
      .http()
      .delete(`/v1/admin/sources/${source.sourceId}/keys/${key.body.keyId}`)
      .set('Authorization', `Bearer ${admin}`);
    expect(revoked.status).toBe(204);

    // A verification email refused with a 4xx once, with one attempt allowed: dead, then retried by an admin.
    const personId = await bookPerson(t, source, 'AUDIT-1');
    smtp.failNext(451);
    const registration = await register(t, {
      personId,
      language: 'en',
      contacts: [{ channel: 'email', address: 'dead.letter@example.org' }],
    });
    expect(registration.status).toBe(201);
    await t.app.get(DispatcherService).drain();
    const dead = await t.http().get('/v1/admin/deliveries?status=dead').set('Authorization', `Bearer ${admin}`);
    expect(dead.body.deliveries).toHaveLength(1);
    const deliveryId = dead.body.deliveries[0].deliveryId as string;
    expect((await t.http().post(`/v1/admin/deliveries/${deliveryId}/retry`).set('Authorization', `Bearer ${admin}`)).status).toBe(202);

    const log = await entries();
    const find = (action: string, targetId: string) => log.find((e) => e.action === action && e.targetId === targetId);
    const byAdmin = { actorStaffId: adminId, actorRole: 'admin', clientAddress: expect.any(String) };
    expect(find('staff.create', staffId)).toMatchObject({ ...byAdmin, targetType: 'staff', details: { role: 'specialist' } });
    expect(find('staff.disable', staffId)).toMatchObject({ ...byAdmin, targetType: 'staff' });
    expect(find('source.create', source.sourceId)).toMatchObject({ ...byAdmin, targetType: 'source' });
    expect(find('source.key.create', source.sourceId)).toMatchObject({ ...byAdmin, details: { keyId: key.body.keyId } });
    expect(find('source.key.revoke', source.sourceId)).toMatchObject({ ...byAdmin, details: { keyId: key.body.keyId } });
    expect(find('delivery.retry', deliveryId)).toMatchObject({ ...byAdmin, targetType: 'delivery' });

    const text = JSON.stringify(log);
    for (const secret of ['audited.staffer', password, source.apiKey, source.signingSecret, key.body.apiKey, 'dead.letter']) {
      expect(text, `audited: ${secret}`).not.toContain(secret);
    }
  });

  it('#11.19 every protection change is an entry: who, when, protected or not, and why', async () => {
    const source = await createSource(t);
    const personId = await bookPerson(t, source, 'AUDIT-2');
    for (const [isProtected, reason] of [
      [true, 'Court order 2026-CV-0142'],
      [false, 'Order lifted 2026-CV-0142'],
    ] as const) {
      const res = await t
        .http()
        .put(`/v1/admin/people/${personId}/protection`)
        .set('Authorization', `Bearer ${admin}`)
        .send({ protected: isProtected, reason });
      expect(res.status).toBe(200);
    }
    const history = (await entries()).filter((e) => e.action === 'person.protection' && e.targetId === personId);
    expect(history.map((e) => e.details)).toEqual([
      { protected: false, reason: 'Order lifted 2026-CV-0142' },
      { protected: true, reason: 'Court order 2026-CV-0142' },
    ]);
    for (const entry of history)
      expect(entry).toMatchObject({ actorStaffId: adminId, actorRole: 'admin', targetType: 'person', at: expect.any(String) });
  });

  it('#11.19 GET /v1/admin/audit validates its dates', async () => {
    const get = (since: string) => t.http().get('/v1/admin/audit').query({ since }).set('Authorization', `Bearer ${admin}`);
    for (const bad of [
      '1',
      '-1',
      'Dec 1 2026',
      '2026-02-30T00:00:00Z',
      '2026-12-01',
      '-271821-04-20T00:00:00Z',
      '275760-09-13T00:00:00Z',
    ]) {
      const res = await get(bad);
      expect(res.status, bad).toBe(422);
      expect(res.body.errors[0].path, bad).toBe('since');
    }
    for (const good of ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000+02:00']) expect((await get(good)).status, good).toBe(200);
  });
});
