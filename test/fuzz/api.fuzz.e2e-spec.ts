import fc from 'fast-check';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTwilio } from '../support/fake-twilio.js';
import { bookPerson, register } from '../support/registrations.js';
import { createSource, event, personWith, postEvents, putRoster, signature, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { type GeneratorContext, mutated, nasty, nastyString, type Schema, toJson, valueFor } from './generators.js';

/*
 * Property-based fuzzing of every route in the OpenAPI description (and the Twilio webhooks it
 * leaves out): generated requests, with the right credentials most of the time so they reach
 * validation and the services, must never get a 5xx or a dropped connection, every error is
 * problem+json, and the service is healthy afterwards.
 *
 * CI runs FUZZ_RUNS (default 12) requests per route with a fixed seed; `npm run fuzz` runs many
 * more with a random seed, printed so a failure can be replayed with FUZZ_SEED=<seed>.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);
const SEED = process.env.FUZZ_SEED === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED ?? 20261111);

const TWILIO_TOKEN = 'fuzz-twilio-token';
const BASE = 'https://vigil.fuzz';
const PIN = '2468';
const WRONG_CREDENTIALS = [
  'Bearer vgl_wrong',
  'Bearer vmt_wrong',
  'Bearer a.b.c',
  'Basic Zm9vOmJhcg==',
  'Bearer',
  `Bearer ${'x'.repeat(5000)}`,
];

type AuthKind = 'public' | 'source' | 'staff' | 'manage-token' | 'twilio';
type Credentials = 'right' | 'none' | 'wrong' | 'other';

interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  auth: AuthKind;
  pathParams: string[];
  query: { name: string; schema: Schema }[];
  body?: { schema: Schema; form?: boolean };
}

interface FuzzRequest {
  op: Operation;
  path: string;
  query: [string, string][];
  body?: { type: string; text: string; form?: Record<string, string | string[]> };
  credentials: Credentials;
  signSource: boolean;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, Schema> };
}
interface OpenApiOperation {
  parameters?: { name: string; in: string; schema?: Schema }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  security?: Record<string, unknown>[];
}

/** Routes Swagger leaves out (the unsubscribe page is HTML), and the Twilio webhooks should the description ever drop them. */
const TWILIO_FORM: Schema = {
  type: 'object',
  properties: Object.fromEntries(
    ['From', 'To', 'Body', 'MessageSid', 'MessageStatus', 'ErrorCode', 'CallSid', 'CallStatus', 'AnsweredBy', 'CallDuration', 'Digits'].map(
      (name) => [name, { type: 'string' }],
    ),
  ),
};
const UNDOCUMENTED: Operation[] = [
  {
    method: 'post',
    path: '/v1/webhooks/twilio/sms-inbound',
    auth: 'twilio',
    pathParams: [],
    query: [],
    body: { schema: TWILIO_FORM, form: true },
  },
  ...['status', 'voice'].map((kind): Operation => ({
    method: 'post',
    path: `/v1/webhooks/twilio/${kind}/{deliveryId}`,
    auth: 'twilio',
    pathParams: ['deliveryId'],
    query: [],
    body: { schema: TWILIO_FORM, form: true },
  })),
  {
    method: 'post',
    path: '/v1/webhooks/twilio/voice/{deliveryId}/pin',
    auth: 'twilio',
    pathParams: ['deliveryId'],
    query: [
      { name: 'try', schema: { type: 'integer', minimum: 1, maximum: 3 } },
      { name: 'hear', schema: { type: 'string', enum: ['1'] } },
    ],
    body: { schema: TWILIO_FORM, form: true },
  },
  {
    method: 'get',
    path: '/v1/unsubscribe/{contactId}',
    auth: 'public',
    pathParams: ['contactId'],
    query: [{ name: 'token', schema: { type: 'string' } }],
  },
  { method: 'get', path: '/dev/outbox', auth: 'staff', pathParams: [], query: [] },
];

describe('#11.5 fuzz: generated requests to every route never get a 5xx', () => {
  let t: TestApp;
  let fake: FakeTwilio;
  let doc: OpenApiDocument;
  let operations: Operation[];
  let source: TestSource;
  let admin: string;
  let specialist: string;
  let manage: { registrationId: string; manageToken: string };
  let ctx: GeneratorContext;
  const good = new Map<string, unknown>();
  /** Answers by route, to show how far the generated requests got (printed at the end). */
  const statuses = new Map<string, Map<number, number>>();
  let count = 0;

  beforeAll(async () => {
    process.stdout.write(`fuzz: seed ${SEED}, ${RUNS} runs per route (replay with FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS})\n`);
    fake = new FakeTwilio();
    await fake.start();
    t = await startTestApp({
      env: {
        PUBLIC_RATE_LIMIT_PER_MINUTE: '1000000',
        LOGIN_RATE_LIMIT_PER_MINUTE: '1000000',
        TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
        TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
        TWILIO_FROM_NUMBER: '+15005550006',
        TWILIO_API_BASE_URL: fake.baseUrl,
        PUBLIC_BASE_URL: BASE,
      },
    });
    admin = await t.adminToken();
    specialist = await t.staffToken('specialist');

    // Things that exist, so ids in paths and bodies reach the services.
    source = await createSource(t);
    const target = await createSource(t, { name: 'Fuzz target' }); // keys the fuzz may add and revoke
    const { rows: targetKeys } = await t.db.query(`SELECT id FROM source_key WHERE source_id = $1`, [target.sourceId]);
    const personId = await bookPerson(t, source, 'FUZZ-1');
    const contacts = [
      { channel: 'email', address: 'fuzz.victim@example.org' },
      { channel: 'sms', address: '+17135550190' },
      { channel: 'voice', address: '+17135550191' },
    ];
    const registration = {
      personId,
      language: 'en',
      pin: PIN,
      contacts,
      quietHours: { start: '22:00', end: '07:00', timeZone: 'America/Chicago' },
    };
    const mine = await register(t, registration);
    expect(mine.status, mine.text).toBe(201);
    manage = mine.body;
    const enrolled = await t.http().post('/v1/enrollments').set('Authorization', `Bearer ${specialist}`).send(registration);
    expect(enrolled.status, enrolled.text).toBe(201);
    const released = await postEvents(t, source, event({ person: personWith('FUZZ-1'), type: 'RELEASED' }));
    expect(released.status, released.text).toBe(202);
    const baseline = await putRoster(t, source, 'FUZZ-1', { asOf: new Date().toISOString(), people: [personWith('FUZZ-2')] });
    expect(baseline.status, baseline.text).toBe(202);
    const throwaway = await t
      .http()
      .post('/v1/admin/staff')
      .set('Authorization', `Bearer ${admin}`)
      .send({ email: 'fuzz.throwaway@test.vigil', password: 'fuzz-password-123', role: 'specialist' });
    const service = await t
      .http()
      .post('/v1/admin/services')
      .set('Authorization', `Bearer ${admin}`)
      .send({ name: 'Fuzz shelter', kind: 'shelter', phone: '988', public: true });
    expect(service.status, service.text).toBe(201);
    const ids = async (sql: string) => (await t.db.query<{ id: string }>(sql)).rows.map((row) => row.id);
    const knownIds = [
      personId,
      target.sourceId,
      ...targetKeys.map((row: { id: string }) => row.id),
      throwaway.body.staffId as string,
      baseline.body.snapshotId as string,
      ...(await ids(`SELECT id FROM registration`)),
      ...(await ids(`SELECT id FROM contact`)),
      ...(await ids(`SELECT id FROM notification`)),
      ...(await ids(`SELECT id FROM delivery`)),
      service.body.serviceId as string,
    ];

    doc = (await t.http().get('/docs-json').expect(200)).body as OpenApiDocument;
    ctx = {
      knownIds,
      resolve: (ref) => {
        const schema = doc.components?.schemas?.[ref.replace('#/components/schemas/', '')];
        if (!schema) throw new Error(`unresolved ${ref}`);
        return schema;
      },
    };
    const undocumented = UNDOCUMENTED.filter((op) => !doc.paths[op.path]?.[op.method]);
    operations = [...documented(doc), ...undocumented].sort((a, b) => Number(a.method === 'delete') - Number(b.method === 'delete'));

    const quietHours = registration.quietHours;
    good.set('post /v1/custody-events', event({ person: personWith('FUZZ-1', { dateOfBirth: '1980-01-01' }), details: { note: 'fuzz' } }));
    good.set('put /v1/facilities/{code}/roster', { asOf: new Date().toISOString(), people: [personWith('FUZZ-2'), personWith('FUZZ-3')] });
    good.set('post /v1/registrations', registration);
    good.set('post /v1/enrollments', { ...registration, registrantName: 'Fuzz Victim' });
    good.set('patch /v1/registrations/{id}', { language: 'es', eventTypes: ['RELEASED', 'ESCAPED'], quietHours });
    good.set('post /v1/registrations/{id}/contacts/{contactId}/verify', { code: '123456' });
    good.set('post /v1/admin/sources', {
      name: 'Fuzz source',
      facilityCodes: ['HCJ-1'],
      signingRequired: false,
      expectedIntervalSeconds: 60,
    });
    good.set('post /v1/admin/staff', { email: 'fuzz.staff@test.vigil', password: 'fuzz-password-123', role: 'specialist' });
    good.set('patch /v1/admin/staff/{id}', { disabled: false });
    good.set('post /v1/auth/login', { email: 'fuzz.throwaway@test.vigil', password: 'fuzz-password-123' });
    good.set('put /v1/admin/people/{id}/protection', { protected: false, reason: 'fuzz' });
    good.set('put /v1/admin/facilities/{code}/suppression', { suppressed: false, reason: 'fuzz' });
    good.set('post /v1/admin/services', {
      name: 'Fuzz legal aid',
      kind: 'legal_aid',
      phone: '1-800-799-7233',
      website: 'https://legal.example.org',
      languages: ['en', 'es'],
      description: { en: 'Help', es: 'Ayuda' },
      public: false,
    });
    good.set('patch /v1/admin/services/{id}', { hours: '24/7', archived: false });
    good.set('post /v1/registrations/{id}/services', { serviceId: service.body.serviceId });
    good.set('post /v1/webhooks/twilio/sms-inbound', { From: '+17135550190', Body: 'HELP' });
    good.set('post /v1/webhooks/twilio/status/{deliveryId}', { MessageSid: 'SM0', MessageStatus: 'delivered' });
    good.set('post /v1/webhooks/twilio/voice/{deliveryId}/pin', { Digits: PIN });
    good.set('post /v1/webhooks/twilio/voice/{deliveryId}', { CallSid: 'CA0', CallStatus: 'in-progress' });
  }, 120_000);

  afterAll(async () => {
    const lines = [...statuses].map(
      ([route, tally]) =>
        `  ${route}: ${[...tally]
          .sort(([a], [b]) => a - b)
          .map(([status, n]) => `${status}×${n}`)
          .join(' ')}`,
    );
    process.stdout.write(`fuzz: ${count} requests\n${lines.join('\n')}\n`);
    await t?.close();
    await fake?.stop();
  });

  function documented(document: OpenApiDocument): Operation[] {
    return Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .map(([method, op]): Operation => {
          const schemes = (op.security ?? []).flatMap((s) => Object.keys(s));
          const auth: AuthKind = schemes.includes('source')
            ? 'source'
            : schemes.includes('manage-token')
              ? 'manage-token'
              : schemes.includes('staff')
                ? 'staff'
                : schemes.includes('twilio')
                  ? 'twilio'
                  : 'public';
          const params = op.parameters ?? [];
          const json = op.requestBody?.content?.['application/json']?.schema;
          const form = op.requestBody?.content?.['application/x-www-form-urlencoded']?.schema;
          return {
            method: method as Operation['method'],
            path,
            auth,
            // from the template, so a parameter the description forgets is still filled in
            pathParams: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]),
            query: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema ?? { type: 'string' } })),
            body: json ? { schema: json } : form ? { schema: form, form: true } : undefined,
          };
        }),
    );
  }

  function pathParam(op: Operation, name: string): fc.Arbitrary<string> {
    if (name === 'code')
      return fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom('HCJ-1', 'FUZZ-1', 'hcj-1', 'NEW-9') },
        { weight: 2, arbitrary: nastyString },
      );
    const own = op.auth === 'manage-token' ? [fc.constant(manage.registrationId)] : [];
    return fc.oneof(
      ...own.map((arbitrary) => ({ weight: 6, arbitrary })),
      { weight: 6, arbitrary: fc.constantFrom(...ctx.knownIds) },
      { weight: 1, arbitrary: fc.uuid() },
      { weight: 2, arbitrary: nastyString },
    );
  }

  function requests(op: Operation): fc.Arbitrary<FuzzRequest> {
    const params = fc.tuple(...op.pathParams.map((name) => pathParam(op, name)));
    const known = good.get(`${op.method} ${op.path}`);
    const bodyValue: fc.Arbitrary<unknown> = op.body
      ? fc.oneof(
          { weight: 4, arbitrary: valueFor(op.body.schema, ctx) },
          ...(known
            ? [
                { weight: 4, arbitrary: mutated(known) },
                { weight: 1, arbitrary: fc.constant(known) },
              ]
            : []),
          { weight: 1, arbitrary: nasty },
        )
      : fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: nasty }); // mostly as clients send them: no body
    const encoding = fc.constantFrom(
      ...(op.body?.form ? ['form', 'form', 'form', 'form', 'json'] : ['json', 'json', 'json', 'json', 'json', 'json']),
      'malformed',
      'text',
    );
    const query = fc.tuple(
      ...op.query.map((q) =>
        fc.option(valueFor(q.schema, ctx).map(queryValue), { freq: 2 }).map((v) => (v === null ? [] : [[q.name, v] as [string, string]])),
      ),
      fc.option(fc.tuple(fc.oneof(fc.constantFrom('extra', 'limit', 'since', 'status', 'token'), nastyString), nastyString), { freq: 4 }),
    );
    return fc
      .record({
        params,
        query,
        body: bodyValue,
        encoding,
        cut: fc.nat(),
        credentials: fc.constantFrom<Credentials>('right', 'right', 'right', 'right', 'right', 'none', 'wrong', 'other'),
        signSource: fc.boolean(),
      })
      .map(({ params: values, query: q, body, encoding: enc, cut, credentials, signSource }) => {
        let path = op.path;
        op.pathParams.forEach((name, i) => (path = path.replace(`{${name}}`, encodeURIComponent(wellFormed(values[i])))));
        const pairs = q.flat().filter((pair): pair is [string, string] => Array.isArray(pair));
        const request: FuzzRequest = { op, path, query: pairs, body: encodeBody(op, body, enc, cut), credentials, signSource };
        // fast-check prints counterexamples with this: the request as it was sent, not the whole operation
        return Object.assign(request, { [fc.toStringMethod]: () => describeRequest(request) });
      });
  }

  async function send(request: FuzzRequest) {
    const { op, credentials } = request;
    const search = request.query.length
      ? `?${new URLSearchParams(request.query.map(([k, v]): [string, string] => [wellFormed(k), wellFormed(v)])).toString()}`
      : '';
    const target = `${request.path}${search}`;
    const req = t.http()[op.method](target).timeout({ response: 20_000, deadline: 60_000 });
    const authorization = credentialsFor(op.auth, credentials);
    if (authorization) req.set('Authorization', authorization);
    if (op.auth === 'twilio' && credentials !== 'none') {
      const signed =
        credentials === 'right'
          ? twilio.getExpectedTwilioSignature(TWILIO_TOKEN, `${BASE}${target}`, (request.body?.form ?? {}) as Record<string, string>)
          : 'bm90IGEgc2lnbmF0dXJl';
      req.set('X-Twilio-Signature', signed);
    }
    if (op.auth === 'source' && request.signSource && credentials === 'right') {
      for (const [name, value] of Object.entries(signature(source.signingSecret, request.body?.text ?? ''))) req.set(name, value);
    }
    if (request.body) req.set('Content-Type', request.body.type);
    return request.body ? req.send(request.body.text) : req;
  }

  function credentialsFor(auth: AuthKind, credentials: Credentials): string | undefined {
    if (credentials === 'none') return undefined;
    if (credentials === 'wrong') return WRONG_CREDENTIALS[count % WRONG_CREDENTIALS.length];
    switch (auth) {
      case 'source':
        return `Bearer ${credentials === 'right' ? source.apiKey : admin}`;
      case 'staff':
        return `Bearer ${credentials === 'right' ? (count % 2 ? admin : specialist) : manage.manageToken}`;
      case 'manage-token':
        return `Bearer ${credentials === 'right' ? manage.manageToken : admin}`;
      case 'public':
        return credentials === 'other' ? `Bearer ${manage.manageToken}` : undefined;
      case 'twilio':
        return undefined;
    }
  }

  async function fuzz(kinds: AuthKind[]): Promise<void> {
    const selected = operations.filter((op) => kinds.includes(op.auth));
    expect(selected.length).toBeGreaterThan(0);
    for (const op of selected) {
      await fc.assert(
        fc.asyncProperty(requests(op), async (request) => {
          count++;
          let res;
          try {
            res = await send(request);
          } catch (error) {
            throw new Error(`${describeRequest(request)} → no answer (${(error as Error).message})`, { cause: error });
          }
          const tally = statuses.get(`${op.method.toUpperCase()} ${op.path}`) ?? new Map<number, number>();
          statuses.set(`${op.method.toUpperCase()} ${op.path}`, tally.set(res.status, (tally.get(res.status) ?? 0) + 1));
          if (process.env.FUZZ_DEBUG && `${op.method} ${op.path}`.includes(process.env.FUZZ_DEBUG)) {
            process.stdout.write(`DEBUG ${describeRequest(request)} → ${res.status} ${res.text.slice(0, 300)}\n`);
          }
          if (res.status >= 500) throw new Error(`${describeRequest(request)} → ${res.status} ${res.text.slice(0, 300)}`);
          if (res.status >= 400 && !/^application\/problem\+json/.test(String(res.headers['content-type']))) {
            throw new Error(`${describeRequest(request)} → ${res.status} answered as ${res.headers['content-type']}`);
          }
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: process.env.FUZZ_SHRINK !== 'true' },
      );
    }
    const ready = await t.http().get('/health/ready');
    expect(ready.status).toBe(200);
  }

  it('#11.5 fuzz public routes (search, registration, verification, login, unsubscribe)', () => fuzz(['public']), 120_000);
  it('#11.5 fuzz source routes (custody events, rosters) with the source key, a signature, or neither', () => fuzz(['source']), 120_000);
  it('#11.5 fuzz staff routes (admin and specialist tokens)', () => fuzz(['staff']), 180_000);
  it('#11.5 fuzz manage-token routes (view, change, ledger, stop)', () => fuzz(['manage-token']), 120_000);
  it('#11.5 fuzz Twilio webhooks, signed and unsigned', () => fuzz(['twilio']), 120_000);

  it('#11.5 fuzz: afterwards the service is healthy and logged no unhandled error', async () => {
    expect((await t.http().get('/health/live')).status).toBe(200);
    expect((await t.http().get('/health/ready')).status).toBe(200);
    expect((await postEvents(t, source, event())).status).toBe(202);
    const unhandled = t.logs.filter((line) => line.includes('"unhandled error"'));
    expect(unhandled).toEqual([]);
    // The generated requests got past authentication and validation, not only bounced off them.
    const answered = [...statuses].filter(([route]) => !route.includes('/health/')).flatMap(([, tally]) => [...tally.keys()]);
    expect(answered.some((status) => status >= 200 && status < 300)).toBe(true);
    expect(answered).toContain(401);
    expect(answered).toContain(422);
  });
});

function wellFormed(value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8');
}

function formValue(value: unknown): string {
  return wellFormed(typeof value === 'string' ? value : toJson(value).slice(0, 1000));
}

function queryValue(value: unknown): string {
  return typeof value === 'string' ? value : toJson(value).slice(0, 10_000);
}

function encodeBody(op: Operation, value: unknown, encoding: string, cut: number): FuzzRequest['body'] {
  if (value === null && !op.body) return undefined;
  if (encoding === 'form') {
    // Twilio sends flat forms; a repeated key (an array here) is what a forged one could add.
    const fields = Object.entries(value && typeof value === 'object' && !Array.isArray(value) ? value : { value });
    const pairs = fields.flatMap(([k, v]) =>
      (Array.isArray(v) ? v : [v]).map((item): [string, string] => [wellFormed(k), formValue(item)]),
    );
    const form: Record<string, string | string[]> = {};
    for (const [k, v] of pairs) form[k] = k in form ? [...[form[k]].flat(), v] : v;
    return { type: 'application/x-www-form-urlencoded', text: new URLSearchParams(pairs).toString(), form };
  }
  const text = toJson(value);
  if (encoding === 'malformed') return { type: 'application/json', text: text.slice(0, cut % Math.max(1, text.length)) };
  if (encoding === 'text') return { type: 'text/plain', text };
  return { type: 'application/json', text };
}

function describeRequest(request: FuzzRequest): string {
  const clip = (text: string, max = 300) => (text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text);
  const body = request.body ? ` ${request.body.type} ${clip(JSON.stringify(request.body.text))}` : '';
  const query = request.query.length ? ` query ${clip(JSON.stringify(request.query))}` : '';
  return `${request.op.method.toUpperCase()} ${clip(request.path, 200)}${query} [${request.credentials}${request.signSource ? ', signed' : ''}]${body}`;
}
