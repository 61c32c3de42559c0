import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookPerson, register } from '../support/registrations.js';
import { createSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const day = (date: Date) => date.toISOString().slice(0, 10);

describe('#14 program reports: no small count can be worked out by subtraction', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '10000' } });
  });
  afterAll(() => t.close());

  it('#14.1 with one small language among self-registrations and their total published, another language is withheld too', async () => {
    const source = await createSource(t);
    // Twelve English and two Spanish self-registrations: a total of 14 minus 12 would name the two,
    // and so would 14 minus a withheld English count known to be 11 or more (#14.1): both are withheld.
    for (let i = 0; i < 14; i++) {
      const personId = await bookPerson(t, source, `CMP-${i}-${Date.now()}`);
      const language = i < 12 ? 'en' : 'es';
      const res = await register(t, { personId, language, contacts: [{ channel: 'email', address: `cmp${i}@example.org` }] });
      expect(res.status, res.text).toBe(201);
    }
    const today = new Date();
    const from = day(new Date(today.getTime() - 86_400_000));
    const to = day(new Date(today.getTime() + 86_400_000));
    const res = await t
      .http()
      .get(`/v1/admin/reports?from=${from}&to=${to}`)
      .set('Authorization', `Bearer ${await t.adminToken()}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.suppression).toEqual({ threshold: 11, marker: '<11', complementMarker: 'withheld' });
    expect(res.body.registrations.self).toBe(14);
    expect(res.body.registrations.byLanguage).toEqual([
      { language: 'en', self: 'withheld', enrolled: 0 },
      { language: 'es', self: 'withheld', enrolled: 0 },
    ]);
    // By channel a registration may count more than once, so no column adds up to a total: nothing more to withhold.
    expect(res.body.registrations.byChannel).toEqual([{ channel: 'email', self: 14, enrolled: 0 }]);

    const csv = await t
      .http()
      .get(`/v1/admin/reports?from=${from}&to=${to}&format=csv`)
      .set('Authorization', `Bearer ${await t.adminToken()}`);
    expect(csv.text).toContain('registrations by language,en,self,withheld');
    expect(csv.text).toContain('registrations by language,es,self,withheld');
  });
});
