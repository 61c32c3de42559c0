import net from 'node:net';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSource, event, postEvents } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const TOKEN = 'findings-token';
const BASE = 'https://vigil.findings';
const PROBLEM_JSON = /^application\/problem\+json/;
const DELIVERY = '0b5f6c1e-7d1a-4c8e-9f3a-2d4b6a8c0e12';

/** Regressions for what the fuzz suite (#11.5) found: each answered 5xx, or not as problem+json, before its fix. */
describe('#11.5 fuzz findings', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: {
        TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
        TWILIO_AUTH_TOKEN: TOKEN,
        TWILIO_FROM_NUMBER: '+15005550006',
        TWILIO_API_BASE_URL: 'http://127.0.0.1:9',
        PUBLIC_BASE_URL: BASE,
      },
    });
  });
  afterAll(() => t.close());

  const signedWithoutForm = (path: string, type: string, body: string) =>
    t
      .http()
      .post(path)
      .set('X-Twilio-Signature', twilio.getExpectedTwilioSignature(TOKEN, `${BASE}${path}`, {}))
      .set('Content-Type', type)
      .send(body);

  it('#11.5 fuzz finding: a signed Twilio callback whose body is not a form is not a 500 (body was undefined)', async () => {
    const status = await signedWithoutForm(`/v1/webhooks/twilio/status/${DELIVERY}`, 'text/plain', '{"MessageStatus":"delivered"}');
    expect(status.status, status.text).toBe(204);
    const inbound = await signedWithoutForm('/v1/webhooks/twilio/sms-inbound', 'text/plain', 'STOP');
    expect(inbound.status, inbound.text).toBe(200);
    const pin = await signedWithoutForm(`/v1/webhooks/twilio/voice/${DELIVERY}/pin`, 'application/json', '["2468"]');
    expect(pin.status, pin.text).toBe(404);
    expect(pin.headers['content-type']).toMatch(PROBLEM_JSON);
  });

  it('#11.5 fuzz finding: a lone surrogate in a vendor field or details is 422, not a 500 from PostgreSQL jsonb', async () => {
    const source = await createSource(t);
    const raw = JSON.stringify(event({ vendorNote: 'PLACEHOLDER' })).replace('PLACEHOLDER', '\\ud800');
    const res = await postEvents(t, source, raw);
    expect(res.status, res.text).toBe(422);
    expect(res.body.errors).toEqual([{ path: 'vendorNote', message: expect.stringContaining('Unicode') }]);
    const inDetails = await postEvents(
      t,
      source,
      JSON.stringify(event({ details: { note: 'PLACEHOLDER' } })).replace('PLACEHOLDER', '\\udc00x'),
    );
    expect(inDetails.status, inDetails.text).toBe(422);
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM custody_event`);
    expect(rows[0].n).toBe(0);
  });

  it('#11.5 fuzz finding: a request line over 16 KB is answered 431 as problem+json, then the connection closes', async () => {
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () =>
        socket.write(`GET /v1/people?lastName=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`),
      );
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(answer).toMatch(/\r\nContent-Type: application\/problem\+json\r\n/i);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 431 });
  });
});
