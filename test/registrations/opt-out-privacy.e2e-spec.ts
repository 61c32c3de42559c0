import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookPerson, latestCode, register } from '../support/registrations.js';
import { createSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const TWILIO_TOKEN = 'twilio-auth-token-for-opt-out-tests';
const PUBLIC_BASE_URL = 'https://vigil.test';
const STOPPED = '+17135550160';
const NEVER_STOPPED = '+17135550161';

describe('what a registration tells about the STOP list (#11.8)', () => {
  let t: TestApp;
  let personId: string;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        PUBLIC_RATE_LIMIT_PER_MINUTE: '1000',
        TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
        TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
        TWILIO_FROM_NUMBER: '+15005550006',
        TWILIO_API_BASE_URL: 'http://127.0.0.1:9',
        PUBLIC_BASE_URL,
      },
    });
    personId = await bookPerson(t, await createSource(t), 'OPTOUT-1');
    const path = '/v1/webhooks/twilio/sms-inbound';
    const params = { From: STOPPED, Body: 'STOP' };
    const stop = await t
      .http()
      .post(path)
      .type('form')
      .set('X-Twilio-Signature', twilio.getExpectedTwilioSignature(TWILIO_TOKEN, `${PUBLIC_BASE_URL}${path}`, params))
      .send(params);
    expect(stop.status).toBe(200);
  });
  afterAll(() => t.close());

  const view = (created: { registrationId: string; manageToken: string }) =>
    t.http().get(`/v1/registrations/${created.registrationId}`).set('Authorization', `Bearer ${created.manageToken}`);
  /** An answer with what differs by nature (ids, tokens, the masked number, the time) set aside. */
  const comparable = (body: Record<string, unknown>) =>
    JSON.parse(
      JSON.stringify(body, (key, value: unknown) =>
        ['registrationId', 'manageToken', 'contactId', 'createdAt', 'address'].includes(key) ? '…' : value,
      ),
    ) as unknown;

  it('#11.8 an unverified SMS contact looks the same whether or not its number ever sent STOP, hint included', async () => {
    const stopped = await register(t, { personId, language: 'en', contacts: [{ channel: 'sms', address: STOPPED }] });
    const fresh = await register(t, { personId, language: 'en', contacts: [{ channel: 'sms', address: NEVER_STOPPED }] });
    expect([stopped.status, fresh.status]).toEqual([201, 201]);
    expect(comparable(stopped.body)).toEqual(comparable(fresh.body));
    const [a, b] = [await view(stopped.body), await view(fresh.body)];
    expect(comparable(a.body)).toEqual(comparable(b.body));
    expect(stopped.body.contacts[0].hint).toMatch(/START/);
    expect(a.body.contacts[0]).toMatchObject({ verified: false, optedOut: false, hint: stopped.body.contacts[0].hint });

    // Spanish registrations get the same words in Spanish, for every number alike.
    const es = await register(t, { personId, language: 'es', contacts: [{ channel: 'sms', address: STOPPED }] });
    const esFresh = await register(t, { personId, language: 'es', contacts: [{ channel: 'sms', address: NEVER_STOPPED }] });
    expect(es.body.contacts[0].hint).toBe(esFresh.body.contacts[0].hint);
    expect(es.body.contacts[0].hint).not.toBe(stopped.body.contacts[0].hint);
  });

  it('#11.8 once verified, a contact shows its opt-out, and no hint', async () => {
    const created = await register(t, {
      personId,
      language: 'en',
      contacts: [
        { channel: 'sms', address: STOPPED },
        { channel: 'email', address: 'opt.out.privacy@example.org' },
      ],
    });
    expect(created.body.contacts[1].hint).toBeUndefined();
    const sms = created.body.contacts[0].contactId as string;
    const code = await latestCode(t, sms);
    expect((await t.http().post(`/v1/registrations/${created.body.registrationId}/contacts/${sms}/verify`).send({ code })).status).toBe(
      200,
    );
    const res = await view(created.body);
    expect(res.body.contacts[0]).toEqual(expect.objectContaining({ verified: true, optedOut: true }));
    expect(res.body.contacts[0].hint).toBeUndefined();
    expect(res.body.contacts[1]).toEqual(expect.objectContaining({ verified: false, optedOut: false }));
  });
});
