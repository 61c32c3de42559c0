import http from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyError } from '../retry-policy.js';
import { TwilioHttpClient } from './twilio-http-client.js';
import { twilioClient } from './twilio.provider.js';

const SID = 'AC00000000000000000000000000000000';

/** A real HTTP server on loopback that records each request and answers with `answer`, or never. */
async function server(answer?: (req: http.IncomingMessage, body: string) => { status: number; json: unknown }) {
  const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (!answer) return; // stalls: the client's timeout has to end it
      const { status, json } = answer(req, body);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const close = () => {
    srv.closeAllConnections();
    return new Promise<void>((resolve) => srv.close(() => resolve()));
  };
  return { url, seen, close };
}

describe('TwilioHttpClient under the real twilio SDK', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('sends every call to the base URL with the path, form body, auth and query the SDK built', async () => {
    const fake = await server((req) =>
      req.method === 'POST' ? { status: 201, json: { sid: 'SM123', status: 'queued' } } : { status: 200, json: { messages: [] } },
    );
    cleanup.push(fake.close);
    const transport = new TwilioHttpClient({ baseUrl: fake.url, timeoutMs: 5_000 });
    cleanup.push(() => transport.close());
    const client = twilioClient({ accountSid: SID, authToken: 'secret-token' }, transport);

    const sent = await client.messages.create({ to: '+18325550100', from: '+15005550006', body: 'Café ✓', statusCallback: 'http://x/cb' });
    await client.messages.list({ to: '+18325550100', limit: 5 });

    expect(sent.sid).toBe('SM123');
    const [post, get] = fake.seen;
    expect(post.method).toBe('POST');
    expect(post.url).toBe(`/2010-04-01/Accounts/${SID}/Messages.json`);
    expect(Object.fromEntries(new URLSearchParams(post.body))).toEqual({
      To: '+18325550100',
      From: '+15005550006',
      Body: 'Café ✓',
      StatusCallback: 'http://x/cb',
    });
    expect(post.headers.authorization).toBe(`Basic ${Buffer.from(`${SID}:secret-token`).toString('base64')}`);
    expect(post.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(post.headers['user-agent']).toMatch(/^twilio-node\//);
    expect(get.method).toBe('GET');
    expect(get.url).toMatch(new RegExp(`^/2010-04-01/Accounts/${SID}/Messages.json\\?`));
    expect(new URL(get.url, 'http://x').searchParams.get('To')).toBe('+18325550100');
    expect(get.body).toBe('');
  });

  it("hands Twilio's error answers to the SDK, which throws its RestException with the code", async () => {
    const fake = await server(() => ({ status: 400, json: { code: 21211, message: "The 'To' number is not valid", status: 400 } }));
    cleanup.push(fake.close);
    const transport = new TwilioHttpClient({ baseUrl: fake.url, timeoutMs: 5_000 });
    cleanup.push(() => transport.close());
    const client = twilioClient({ accountSid: SID, authToken: 't' }, transport);

    const error = await client.messages.create({ to: '+1', from: '+15005550006', body: 'x' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(twilio.RestException);
    expect(classifyError(error)).toMatchObject({ outcome: 'permanent_error', errorCode: 'twilio_21211' });
  });

  it('gives up on a provider that does not answer within the timeout: a transient network error', async () => {
    const fake = await server();
    cleanup.push(fake.close);
    const transport = new TwilioHttpClient({ baseUrl: fake.url, timeoutMs: 300 });
    cleanup.push(() => transport.close());
    const client = twilioClient({ accountSid: SID, authToken: 't' }, transport);

    const error = await client.messages.create({ to: '+18325550100', from: '+15005550006', body: 'x' }).catch((e: unknown) => e);

    expect(fake.seen).toHaveLength(1);
    expect(error).toMatchObject({ code: 'ETIMEDOUT', message: 'Twilio did not answer within 300 ms' });
    expect(classifyError(error)).toEqual({ outcome: 'transient_error', errorCode: 'ETIMEDOUT', errorClass: 'network' });
  });

  it('treats a refused connection and a connection dropped mid-request as transient network errors', async () => {
    const closed = await server();
    await closed.close();
    const refused = new TwilioHttpClient({ baseUrl: closed.url, timeoutMs: 1_000 });
    cleanup.push(() => refused.close());
    const refusal = await twilioClient({ accountSid: SID, authToken: 't' }, refused)
      .messages.create({ to: '+18325550100', from: '+15005550006', body: 'x' })
      .catch((e: unknown) => e);
    expect(classifyError(refusal)).toEqual({ outcome: 'transient_error', errorCode: 'ECONNREFUSED', errorClass: 'network' });

    const dropping = http.createServer((req) => req.socket.destroy());
    await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => dropping.close(resolve)));
    const dropped = new TwilioHttpClient({ baseUrl: `http://127.0.0.1:${(dropping.address() as AddressInfo).port}`, timeoutMs: 1_000 });
    cleanup.push(() => dropped.close());
    const drop = await twilioClient({ accountSid: SID, authToken: 't' }, dropped)
      .messages.create({ to: '+18325550100', from: '+15005550006', body: 'x' })
      .catch((e: unknown) => e);
    expect(classifyError(drop)).toMatchObject({ outcome: 'transient_error', errorClass: 'network' });
  });
});
