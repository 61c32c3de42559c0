import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../common/problem/domain-error.js';
import { bodyParserProblem } from '../common/problem/problem-details.filter.js';
import { parseWith, ValidationProblem } from '../common/problem/validation.js';
import { StreamingWebhookVerifier } from '../sources/streaming-webhook-verifier.js';
import { MAX_ROSTER, rosterSchema } from './custody-event.schema.js';
import { PackedPeople, peopleOf, readRosterStream, type RosterPart, type RosterStreamOptions } from './roster-stream.js';

const AS_OF = '2026-11-26T06:00:00-06:00';
/** The request the filter sees for a roster body: its path decides the limit it names. */
const ROSTER_REQUEST = { url: '/v1/facilities/F1/roster', headers: { 'content-type': 'application/json' } } as unknown as FastifyRequest;

function person(i: number, extra: Record<string, unknown> = {}) {
  return { identifiers: [{ system: 'BOOKING', value: `BK-${i}` }], firstName: `First${i}`, lastName: `Last${i}`, ...extra };
}

/** The body cut into chunks of `size` bytes, as a socket might deliver it. */
function chunked(body: string | Buffer, size: number): Readable {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks, { objectMode: false });
}

async function read(body: string | Buffer, options: RosterStreamOptions = {}, size = 64 * 1024): Promise<RosterPart[]> {
  const parts: RosterPart[] = [];
  for await (const part of readRosterStream(chunked(body, size), options)) parts.push(part);
  return parts;
}

async function failure(body: string | Buffer, options: RosterStreamOptions = {}, size = 64 * 1024): Promise<unknown> {
  return read(body, options, size).then(
    () => {
      throw new Error('the roster was accepted');
    },
    (error: unknown) => error,
  );
}

async function fieldErrors(body: string | Buffer, options: RosterStreamOptions = {}) {
  const error = await failure(body, options);
  expect(error).toBeInstanceOf(ValidationProblem);
  return ((error as ValidationProblem).getResponse() as { errors: { path: string; message: string }[] }).errors;
}

function bufferedErrors(roster: unknown) {
  try {
    parseWith(rosterSchema, roster);
  } catch (error) {
    return ((error as ValidationProblem).getResponse() as { errors: unknown[] }).errors;
  }
  throw new Error('the buffered route accepts it');
}

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

function signed(body: string, at = new Date()) {
  const id = `msg_${randomBytes(6).toString('hex')}`;
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(SECRET).sign(id, at, body),
  };
}

const signingSource = { signingRequired: true, signingSecret: SECRET };

describe('#12 roster read as a stream', () => {
  it('#12 yields each person validated, with the vendor fields kept in its raw form, then the envelope', async () => {
    // people before asOf: a streaming reader must not depend on the envelope's key order.
    const people = [person(1, { housingUnit: 'POD A-3', charges: [{ statute: 'PC 22.01', bond: 5000 }] }), person(2)];
    const body = JSON.stringify({ people, asOf: AS_OF });
    const parts = await read(body);

    expect(parts.map((part) => part.kind)).toEqual(['person', 'person', 'end']);
    const [first, second, end] = parts;
    expect(first).toMatchObject({ kind: 'person', index: 0, person: person(1) });
    expect(first.kind === 'person' && first.person).not.toHaveProperty('housingUnit');
    expect(first.kind === 'person' && first.raw).toEqual(people[0]);
    expect(second).toMatchObject({ kind: 'person', index: 1, raw: people[1] });
    expect(end).toEqual({ kind: 'end', asOf: AS_OF, people: 2, bytes: Buffer.byteLength(body), webhook: undefined });
  });

  it('#12 gives the people the buffered route gives (JSON.parse and the roster schema)', async () => {
    const body = JSON.stringify({
      asOf: AS_OF,
      people: Array.from({ length: 300 }, (_, i) => person(i, { dateOfBirth: '1980-02-29', countryOfBirth: 'Mexico', vendor: { x: [i] } })),
    });
    const streamed = (await read(body, {}, 257)).flatMap((part) => (part.kind === 'person' ? [part.person] : []));
    expect(streamed).toEqual(rosterSchema.parse(JSON.parse(body)).people);
  });

  it('#12 keeps a character whose UTF-8 bytes are split across chunks', async () => {
    const names = ['Zoë', 'Nguyễn', 'Łukasz', '李小龙', 'Ana 🌺'];
    const body = JSON.stringify({ asOf: AS_OF, people: names.map((name, i) => person(i, { firstName: name, note: `${name}…` })) });
    // One byte at a time splits every multi-byte character; 3 bytes splits the 4-byte emoji unevenly.
    for (const size of [1, 2, 3, 5]) {
      const parts = await read(body, {}, size);
      const got = parts.flatMap((part) => (part.kind === 'person' ? [[part.person.firstName, part.raw.note]] : []));
      expect(got, `chunks of ${size} bytes`).toEqual(names.map((name) => [name, `${name}…`]));
    }
  });

  it('#12 drops a leading byte-order mark, as the buffered parser does', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ asOf: AS_OF, people: [person(1)] }))]);
    expect((await read(body, {}, 2)).at(-1)).toMatchObject({ kind: 'end', people: 1 });
  });

  it.each([
    ['truncated', JSON.stringify({ asOf: AS_OF, people: [person(1)] }).slice(0, -3)],
    ['trailing garbage', `${JSON.stringify({ asOf: AS_OF, people: [] })} x`],
    ['two documents', `${JSON.stringify({ asOf: AS_OF, people: [] })}{}`],
    ['a bare word', `{"asOf": "${AS_OF}", "people": [nope]}`],
    ['a trailing comma', `{"asOf": "${AS_OF}", "people": [],}`],
    ['a raw control character in a string', `{"asOf": "${AS_OF}", "people": [{"firstName": "A\u0001B"}]}`],
    ['an empty body', ''],
  ])('#12 answers 400 MALFORMED_BODY for malformed JSON: %s', async (_, body) => {
    const error = await failure(body, {}, 7);
    expect(bodyParserProblem(error, ROSTER_REQUEST)).toMatchObject({ status: 400, code: 'MALFORMED_BODY' });
  });

  it('#12 answers 400 MALFORMED_BODY for bytes that are not UTF-8, also at the very end', async () => {
    const good = Buffer.from(JSON.stringify({ asOf: AS_OF, people: [person(1, { firstName: 'Zoë' })] }));
    const at = good.indexOf(Buffer.from('ë'));
    const invalid = Buffer.concat([good.subarray(0, at), Buffer.from([0xff]), good.subarray(at + 2)]);
    expect(bodyParserProblem(await failure(invalid, {}, 4), ROSTER_REQUEST)).toMatchObject({ status: 400, code: 'MALFORMED_BODY' });
    // A character cut short by the end of the body.
    const cut = Buffer.concat([Buffer.from(`{"asOf": "${AS_OF}", "people": []}`), Buffer.from([0xc3])]);
    expect(bodyParserProblem(await failure(cut, {}, 4), ROSTER_REQUEST)).toMatchObject({ status: 400, code: 'MALFORMED_BODY' });
  });

  it('#12 answers 413 as soon as the body passes the limit, without reading the rest', async () => {
    let pulled = 0;
    const endless = (async function* () {
      for (;;) {
        pulled++;
        // A socket's chunks arrive over time.
        await new Promise((resolve) => setImmediate(resolve));
        yield Buffer.from(pulled === 1 ? `{"asOf": "${AS_OF}", "people": [` : `${JSON.stringify(person(pulled))},`);
      }
    })();
    const parts: RosterPart[] = [];
    const error = await (async () => {
      for await (const part of readRosterStream(endless, { limitBytes: 10_000 })) parts.push(part);
    })().catch((e: unknown) => e);
    expect(bodyParserProblem(error, ROSTER_REQUEST)).toMatchObject({ status: 413, code: 'BODY_TOO_LARGE' });
    expect(pulled * 90).toBeLessThan(12_000);
    expect(parts.length).toBeGreaterThan(10);
  });

  it('#12 accepts a body of exactly the limit', async () => {
    const body = JSON.stringify({ asOf: AS_OF, people: [person(1)] });
    expect((await read(body, { limitBytes: Buffer.byteLength(body) })).at(-1)).toMatchObject({ kind: 'end' });
    expect(bodyParserProblem(await failure(body, { limitBytes: Buffer.byteLength(body) - 1 }), ROSTER_REQUEST)).toMatchObject({
      status: 413,
    });
  });

  it('#12 answers 422 for the wrong shape, with the paths the buffered route gives', async () => {
    expect(await fieldErrors(JSON.stringify([person(1)]))).toEqual([{ path: '', message: 'must be an object' }]);
    expect(await fieldErrors(JSON.stringify('roster'))).toEqual([{ path: '', message: 'must be an object' }]);
    expect(await fieldErrors(JSON.stringify({ asOf: AS_OF, people: { 0: person(1) } }))).toEqual([
      { path: 'people', message: 'must be an array' },
    ]);
    expect(await fieldErrors(JSON.stringify({ asOf: AS_OF, people: 'everyone' }))).toEqual([
      { path: 'people', message: 'must be an array' },
    ]);
    expect(await fieldErrors(JSON.stringify({ people: [] }))).toEqual([{ path: 'asOf', message: 'is required' }]);
    expect(await fieldErrors(JSON.stringify({ asOf: AS_OF }))).toEqual([{ path: 'people', message: 'is required' }]);
    // asOf and person errors read exactly as the buffered route's (JSON.parse, then the roster schema).
    for (const roster of [
      { asOf: { at: AS_OF }, people: [] },
      { asOf: '2026-11-26T06:00:00', people: [] },
      { asOf: 20261126, people: [] },
      {
        asOf: AS_OF,
        people: [
          { ...person(1), identifiers: 'BK-1' },
          { ...person(2), dateOfBirth: '2999-01-01', firstName: 7 },
        ],
      },
    ]) {
      expect(await fieldErrors(JSON.stringify(roster)), JSON.stringify(roster)).toEqual(bufferedErrors(roster));
    }
  });

  it('#12 refuses unknown envelope fields (the envelope stays strict) but not unknown person fields', async () => {
    const errors = await fieldErrors(
      JSON.stringify({ asOf: AS_OF, source: { vendor: 'x' }, people: [person(1, { vendorId: 7 })], extra: 1 }),
    );
    expect(errors).toEqual([
      { path: 'source', message: 'is not a known field' },
      { path: 'extra', message: 'is not a known field' },
    ]);
  });

  it('#12 reports each invalid person by its index, and yields nothing more once one is invalid', async () => {
    const body = JSON.stringify({
      asOf: AS_OF,
      people: [person(0), { ...person(1), lastName: '' }, { identifiers: [], firstName: 'A\tB', lastName: 'C' }, 42, person(4)],
    });
    const seen: number[] = [];
    const error = await (async () => {
      for await (const part of readRosterStream(chunked(body, 16))) if (part.kind === 'person') seen.push(part.index);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationProblem);
    const errors = ((error as ValidationProblem).getResponse() as { errors: { path: string; message: string }[] }).errors;
    expect(errors.map((e) => e.path)).toEqual(['people[1].lastName', 'people[2].identifiers', 'people[2].firstName', 'people[3]']);
    expect(seen).toEqual([0]);
  });

  it('#12 refuses control characters and lone surrogates anywhere in a person, vendor fields included', async () => {
    const errors = await fieldErrors(
      JSON.stringify({ asOf: AS_OF, people: [person(0, { notes: 'a\u0000b' }), person(1, { lastName: 'X\ud800' })] }),
    );
    expect(errors).toEqual([
      { path: 'people[0].notes', message: 'must not contain control characters' },
      { path: 'people[1].lastName', message: 'must be valid Unicode text (no lone surrogates)' },
    ]);
  });

  it('#12 refuses a body nested deeper than the input rules allow, as soon as it arrives', async () => {
    const deep = `{"asOf": "${AS_OF}", "people": [${'['.repeat(100_000)}`;
    const error = await failure(deep, { limitBytes: 1_000_000 }, 1000);
    expect(error).toBeInstanceOf(ValidationProblem);
    expect(((error as ValidationProblem).getResponse() as { errors: unknown[] }).errors).toEqual([
      { path: '', message: 'is nested more than 32 levels deep' },
    ]);
  });

  it('#12 keeps a person field named __proto__ as data, never as a prototype', async () => {
    const body = `{"asOf": "${AS_OF}", "people": [{"identifiers": [{"system": "BOOKING", "value": "1"}], "firstName": "A", "lastName": "B", "__proto__": {"polluted": true}}]}`;
    const [part] = await read(body);
    expect(part.kind === 'person' && Object.getPrototypeOf(part.raw)).toBe(Object.prototype);
    expect(part.kind === 'person' && Object.getOwnPropertyDescriptor(part.raw, '__proto__')?.value).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it(`#12 refuses more than ${MAX_ROSTER} people`, async () => {
    const one = JSON.stringify(person(1));
    const body = `{"asOf": "${AS_OF}", "people": [${Array.from({ length: MAX_ROSTER + 1 }, () => one).join(',')}]}`;
    let yielded = 0;
    const error = await (async () => {
      for await (const part of readRosterStream(chunked(body, 1 << 20), { limitBytes: 50 * 2 ** 20 }))
        if (part.kind === 'person') yielded++;
    })().catch((e: unknown) => e);
    expect(((error as ValidationProblem).getResponse() as { errors: unknown[] }).errors).toEqual([
      { path: 'people', message: `must hold at most ${MAX_ROSTER} people` },
    ]);
    expect(yielded).toBe(MAX_ROSTER);
  });
});

describe('#12 roster signature computed as the body streams', () => {
  const body = JSON.stringify({ asOf: AS_OF, people: [person(1, { firstName: 'Zoë' }), person(2)] });

  it('#12 accepts a Standard Webhooks signature over the raw bytes, in chunks of any size, and gives the body hash', async () => {
    const headers = signed(body);
    for (const size of [1, 3, 64 * 1024]) {
      const verifier = StreamingWebhookVerifier.fromHeaders(signingSource, headers, new Date())!;
      const end = (await read(body, { verifier }, size)).at(-1);
      expect(end).toMatchObject({
        kind: 'end',
        webhook: { webhookId: headers['webhook-id'], bodyHash: createHash('sha256').update(body).digest() },
      });
    }
  });

  it('#12 accepts any one matching signature among several (key rotation on the sender side)', async () => {
    const headers = signed(body);
    headers['webhook-signature'] = `v1,${Buffer.alloc(32).toString('base64')} v2,whatever ${headers['webhook-signature']}`;
    const verifier = StreamingWebhookVerifier.fromHeaders(signingSource, headers, new Date())!;
    expect((await read(body, { verifier })).at(-1)).toMatchObject({ kind: 'end' });
  });

  it('#12 answers 401 SIGNATURE_INVALID for a body that is not the one signed, after reading it whole', async () => {
    const headers = signed(body);
    const verifier = StreamingWebhookVerifier.fromHeaders(signingSource, headers, new Date())!;
    const error = await failure(body.replace('Last2', 'Last3'), { verifier });
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ kind: 'unauthorized', code: 'SIGNATURE_INVALID' });
  });

  it('#12 answers 401 before 422: a forged roster that is also invalid learns nothing about its fields', async () => {
    const invalid = JSON.stringify({ asOf: 'yesterday', people: [{ firstName: '' }] });
    const verifier = StreamingWebhookVerifier.fromHeaders(signingSource, signed(body), new Date())!;
    expect(await failure(invalid, { verifier })).toMatchObject({ code: 'SIGNATURE_INVALID' });
  });

  it('#12 refuses from the headers alone: missing, partial, stale or future signatures', () => {
    const now = new Date();
    const headers = signed(body, now);
    expect(() => StreamingWebhookVerifier.fromHeaders(signingSource, {}, now)).toThrow(
      expect.objectContaining({ code: 'SIGNATURE_REQUIRED' }) as Error,
    );
    const partial = { 'webhook-id': headers['webhook-id'], 'webhook-signature': headers['webhook-signature'] };
    expect(() => StreamingWebhookVerifier.fromHeaders({ ...signingSource, signingRequired: false }, partial, now)).toThrow(
      expect.objectContaining({ code: 'SIGNATURE_REQUIRED' }) as Error,
    );
    for (const offsetSeconds of [-301, 301]) {
      expect(() => StreamingWebhookVerifier.fromHeaders(signingSource, headers, new Date(now.getTime() + offsetSeconds * 1000))).toThrow(
        expect.objectContaining({ code: 'SIGNATURE_INVALID' }) as Error,
      );
    }
    expect(StreamingWebhookVerifier.fromHeaders(signingSource, headers, new Date(now.getTime() + 299_000))).toBeDefined();
    expect(StreamingWebhookVerifier.fromHeaders({ ...signingSource, signingRequired: false }, {}, now)).toBeUndefined();
  });

  it('#12 agrees with the guard’s library on the same signature (the two checks cannot drift)', async () => {
    const headers = signed(body);
    expect(() => new Webhook(SECRET).verify(body, headers)).not.toThrow();
    const verifier = StreamingWebhookVerifier.fromHeaders(signingSource, headers, new Date())!;
    await expect(read(body, { verifier })).resolves.toHaveLength(3);
    const other = `whsec_${randomBytes(32).toString('base64')}`;
    const wrongKey = StreamingWebhookVerifier.fromHeaders({ signingRequired: true, signingSecret: other }, headers, new Date())!;
    expect(await failure(body, { verifier: wrongKey })).toMatchObject({ code: 'SIGNATURE_INVALID' });
  });
});

describe('#12 a roster’s people held as text until the service reads them', () => {
  it('gives back every person, in order, a slice at a time, exactly as validated', () => {
    const people = Array.from({ length: 7 }, (_, i) => ({
      identifiers: [{ system: 'BOOKING', value: `B-${i}` }],
      firstName: `Zoë ${i}`,
      lastName: 'Ñúñez',
      ...(i % 2 ? { dateOfBirth: '1990-01-02' } : {}),
    }));
    const packed = new PackedPeople();
    for (const person of people) packed.push(person);
    expect(packed.length).toBe(7);
    const slices = [...packed.slices(3)];
    expect(slices.map((slice) => slice.length)).toEqual([3, 3, 1]);
    expect(slices.flat()).toEqual(people);
    expect([...peopleOf(people).slices(3)].flat()).toEqual(people);
    expect([...new PackedPeople().slices(3)]).toEqual([]);
  });
});
