import type { Readable } from 'node:stream';
import { jsonParser, type Token } from 'stream-json/parser.js';
import { getManyValues, isMany, none } from 'stream-chain/defs.js';
import type { FieldError } from '../common/problem/domain-error.js';
import { inputProblems, MAX_INPUT_DEPTH } from '../common/problem/input-rules.js';
import { parseWith, ValidationProblem } from '../common/problem/validation.js';
import type { StreamingWebhookVerifier } from '../sources/streaming-webhook-verifier.js';
import type { WebhookMessage } from '../sources/webhook-replay.js';
import { MAX_ROSTER, personSchema, rosterSchema } from './custody-event.schema.js';

/** DESIGN: roster bodies up to 50 MB. */
export const ROSTER_BODY_LIMIT = 50 * 1024 * 1024;
/** Field errors kept for one answer; past this the body is still read (for the signature) but no more are collected. */
const MAX_FIELD_ERRORS = 100;

type Person = ReturnType<typeof personSchema.parse>;

/** One part of a roster read as it streams in; the last part is always `end`. */
export type RosterPart =
  | {
      kind: 'person';
      index: number;
      /** What the services use: the contract's fields, validated. */
      person: Person;
      /** The person as sent, vendors' fields included, for a stored raw payload. */
      raw: Record<string, unknown>;
    }
  | { kind: 'end'; asOf: string; people: number; bytes: number; webhook?: WebhookMessage };

/**
 * A failure of the body itself, with the `code` Fastify's body parser gives its own, so the
 * problem+json filter answers it the same way (400 MALFORMED_BODY, 413 BODY_TOO_LARGE).
 */
export class RosterBodyError extends Error {
  constructor(
    readonly code: 'FST_ERR_CTP_INVALID_JSON_BODY' | 'FST_ERR_CTP_BODY_TOO_LARGE',
    message: string,
    readonly limit?: number,
  ) {
    super(message);
    this.name = 'RosterBodyError';
  }
}

export interface RosterStreamOptions {
  limitBytes?: number;
  /** Present when the request is signed (or must be): fed every byte, checked before `end`. */
  verifier?: StreamingWebhookVerifier;
}

/**
 * Reads `PUT /v1/facilities/{code}/roster` from the request body as it arrives, so a 50 MB roster
 * is never held as a buffer, a string and a parsed tree at once: people are yielded one at a time
 * (validated, with their raw form beside them), the byte limit is enforced as chunks come in, and
 * the signature is computed over the same bytes.
 *
 * Nothing yielded may be acted on before `end`: only then are the signature and every person
 * checked. In that order, as with a buffered body: a bad signature answers 401 even when the
 * roster also has field errors (422). Malformed JSON (400) and an oversized body (413) stop the
 * read at once.
 */
export async function* readRosterStream(
  body: AsyncIterable<Buffer | Uint8Array | string>,
  options: RosterStreamOptions = {},
): AsyncGenerator<RosterPart, void, undefined> {
  const limit = options.limitBytes ?? ROSTER_BODY_LIMIT;
  const parse = jsonParser({ packValues: true, streamValues: false });
  // Characters split across chunks wait for the rest of their bytes; invalid UTF-8 is malformed; a BOM is dropped.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const decode = (buffer?: Buffer) => {
    try {
      return buffer ? decoder.decode(buffer, { stream: true }) : decoder.decode();
    } catch {
      throw malformed();
    }
  };
  const reader = new RosterReader();
  let bytes = 0;

  const feed = (text: string): RosterPart[] => {
    let tokens: ReturnType<typeof parse>;
    try {
      tokens = parse(text);
    } catch {
      throw malformed();
    }
    return reader.consume(tokens);
  };

  for await (const chunk of body) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    bytes += buffer.length;
    if (bytes > limit) throw new RosterBodyError('FST_ERR_CTP_BODY_TOO_LARGE', `The request body is larger than ${limit} bytes.`, limit);
    options.verifier?.update(buffer);
    yield* feed(decode(buffer));
  }
  yield* feed(decode());
  try {
    reader.consume(parse(none as unknown as string));
  } catch {
    throw malformed();
  }
  if (!reader.complete) throw malformed();

  const webhook = options.verifier?.verify();
  const asOf = reader.finish();
  yield { kind: 'end', asOf, people: reader.people, bytes, webhook };
}

const malformed = () => new RosterBodyError('FST_ERR_CTP_INVALID_JSON_BODY', 'The request body is not valid JSON.');

type Container = Record<string, unknown> | unknown[];

/**
 * Turns the parser's tokens into the envelope's fields and one person at a time. Depth is counted
 * from the body's root (0 outside it, 1 inside the envelope, 2 inside `people`, 3 inside a person).
 */
class RosterReader {
  people = 0;
  complete = false;
  private notAnObject = false;
  private depth = 0;
  private envelopeKey: string | undefined;
  /** Depth at which a value that is neither asOf nor people started, while it is skipped. */
  private skipping = 0;
  private asOf: unknown = undefined;
  private seen = new Set<string>();
  private readonly errors: FieldError[] = [];
  private inPeople = false;
  /** The person being assembled: a stack of open containers and the key each waits to fill. */
  private stack: Container[] = [];
  private keys: (string | undefined)[] = [];

  consume(tokens: unknown): RosterPart[] {
    if (tokens === none) return [];
    const list = isMany(tokens) ? (getManyValues(tokens) as Token[]) : [tokens as Token];
    const out: RosterPart[] = [];
    for (const token of list) {
      const part = this.token(token);
      if (part) out.push(part);
    }
    return out;
  }

  /** The envelope's checks, once the whole body is in; 422 with every field error found. */
  finish(): string {
    if (this.notAnObject) throw new ValidationProblem([{ path: '', message: 'must be an object' }]);
    if (!this.seen.has('asOf')) this.error('asOf', 'is required');
    else {
      try {
        parseWith(rosterSchema.shape.asOf, this.asOf);
      } catch (error) {
        for (const e of fieldErrors(error)) this.error(e.path ? `asOf.${e.path}` : 'asOf', e.message);
      }
    }
    if (!this.seen.has('people')) this.error('people', 'is required');
    if (this.people > MAX_ROSTER) this.error('people', `must hold at most ${MAX_ROSTER} people`);
    if (this.errors.length) throw new ValidationProblem(this.errors);
    return this.asOf as string;
  }

  private error(path: string, message: string): void {
    if (this.errors.length < MAX_FIELD_ERRORS) this.errors.push({ path, message });
  }

  private token(token: Token): RosterPart | undefined {
    const opens = token.name === 'startObject' || token.name === 'startArray';
    const closes = token.name === 'endObject' || token.name === 'endArray';
    if (opens && this.depth >= MAX_INPUT_DEPTH) {
      // Refused as it arrives: a 50 MB body of brackets would otherwise cost far more than 50 MB.
      throw new ValidationProblem([{ path: '', message: `is nested more than ${MAX_INPUT_DEPTH} levels deep` }]);
    }
    if (opens) this.depth++;
    if (closes) this.depth--;

    if (this.depth === 0 && !closes) {
      // The root: only `{` is a roster; an array or a scalar is the wrong shape.
      if (this.complete) throw malformed();
      if (!opens) {
        this.notAnObject = true;
        this.complete = true;
      }
      return undefined;
    }
    if (this.depth === 1 && token.name === 'startObject') return undefined;
    if (this.depth === 0 && closes) {
      if (token.name === 'endArray') this.notAnObject = true;
      this.complete = true;
      return undefined;
    }
    if (this.skipping) {
      if (closes && this.depth < this.skipping) this.skipping = 0;
      return undefined;
    }
    if (this.depth === 1 && token.name === 'keyValue') {
      this.envelopeKey = token.value;
      if (this.seen.has(token.value)) this.error(token.value, 'appears more than once');
      this.seen.add(token.value);
      if (token.value !== 'asOf' && token.value !== 'people') this.error(token.value, 'is not a known field');
      return undefined;
    }
    if (this.envelopeKey === 'people' && !this.inPeople && (this.depth === 1 || (this.depth === 2 && opens))) {
      // The value of `people`: an array, or the wrong shape.
      if (token.name === 'startArray') this.inPeople = true;
      else {
        this.error('people', 'must be an array');
        if (opens) this.skipping = this.depth;
      }
      return undefined;
    }
    if (this.inPeople && this.depth === 1 && token.name === 'endArray') {
      this.inPeople = false;
      this.envelopeKey = undefined;
      return undefined;
    }
    if (this.inPeople) return this.personToken(token);
    if (this.depth === 1 && this.envelopeKey === 'asOf' && 'value' in token) {
      this.asOf = token.name === 'numberValue' ? Number(token.value) : token.value;
      return undefined;
    }
    // Any other envelope value (asOf as an object, an unknown field's value): skipped to its end.
    if (opens) {
      this.skipping = this.depth;
      if (this.depth === 2 && this.envelopeKey === 'asOf') this.asOf = token.name === 'startObject' ? {} : [];
    }
    return undefined;
  }

  /** Builds one person (depth ≥ 3) without recursion; yields it when its object closes. */
  private personToken(token: Token): RosterPart | undefined {
    let value: unknown;
    switch (token.name) {
      case 'startObject':
      case 'startArray': {
        const container: Container = token.name === 'startObject' ? {} : [];
        if (this.stack.length) this.place(container);
        this.stack.push(container);
        this.keys.push(undefined);
        return undefined;
      }
      case 'endObject':
      case 'endArray': {
        const done = this.stack.pop()!;
        this.keys.pop();
        return this.stack.length ? undefined : this.person(done);
      }
      case 'keyValue':
        this.keys[this.keys.length - 1] = token.value;
        return undefined;
      case 'stringValue':
        value = token.value;
        break;
      case 'numberValue':
        value = Number(token.value);
        break;
      case 'nullValue':
      case 'trueValue':
      case 'falseValue':
        value = token.value;
        break;
      default:
        return undefined;
    }
    if (this.stack.length) this.place(value);
    else return this.person(value);
    return undefined;
  }

  private place(value: unknown): void {
    const top = this.stack[this.stack.length - 1];
    if (Array.isArray(top)) top.push(value);
    else {
      const key = this.keys[this.keys.length - 1]!;
      // As JSON.parse does: `__proto__` is an own field, never the object's prototype.
      if (key === '__proto__') Object.defineProperty(top, key, { value, enumerable: true, writable: true, configurable: true });
      else top[key] = value;
    }
  }

  private person(raw: unknown): RosterPart | undefined {
    const index = this.people++;
    if (index >= MAX_ROSTER) return undefined;
    const path = `people[${index}]`;
    const problems = inputProblems(raw, path, MAX_INPUT_DEPTH - 2);
    if (problems.length) {
      for (const problem of problems) this.error(problem.path, problem.message);
      return undefined;
    }
    try {
      const person = parseWith(personSchema, raw);
      if (this.errors.length) return undefined;
      return { kind: 'person', index, person, raw: raw as Record<string, unknown> };
    } catch (error) {
      for (const e of fieldErrors(error)) this.error(e.path ? `${path}.${e.path}` : path, e.message);
      return undefined;
    }
  }
}

function fieldErrors(error: unknown): FieldError[] {
  if (!(error instanceof ValidationProblem)) throw error;
  return (error.getResponse() as { errors: FieldError[] }).errors;
}

/**
 * The whole roster from a body stream, as the service takes it: the validated people only (not
 * their raw form: the roster stores no per-person raw payload), and the signed message once the
 * signature has checked out. The stream itself is never destroyed, even on an error: for a
 * request that would close the connection before the answer could be written.
 */
/** The people of a roster as the roster service reads them: how many, and a slice at a time. */
export interface RosterPeople {
  readonly length: number;
  slices(size: number): Iterable<Person[]>;
}

/** A roster as the roster service takes it. */
export interface Roster {
  asOf: string;
  people: RosterPeople;
}

/**
 * A roster's validated people kept as compact JSON text, one string each, and parsed again a slice
 * at a time: 100,000 person objects held until the signature is checked at the body's end cost
 * several times the memory of their text, and set how much garbage the process gathers before V8
 * collects it.
 */
export class PackedPeople implements RosterPeople {
  private readonly packed: string[] = [];

  push(person: Person): void {
    this.packed.push(JSON.stringify(person));
  }

  get length(): number {
    return this.packed.length;
  }

  *slices(size: number): Generator<Person[]> {
    for (let from = 0; from < this.packed.length; from += size) {
      yield this.packed.slice(from, from + size).map((text) => JSON.parse(text) as Person);
    }
  }
}

/** People already in memory (a body read whole), read the same way. */
export function peopleOf(people: Person[]): RosterPeople {
  return {
    length: people.length,
    *slices(size: number) {
      for (let from = 0; from < people.length; from += size) yield people.slice(from, from + size);
    },
  };
}

export async function readRoster(body: Readable, options: RosterStreamOptions = {}): Promise<{ roster: Roster; webhook?: WebhookMessage }> {
  const people = new PackedPeople();
  for await (const part of readRosterStream(body.iterator({ destroyOnReturn: false }), options)) {
    if (part.kind === 'person') people.push(part.person);
    else return { roster: { asOf: part.asOf, people }, webhook: part.webhook };
  }
  throw malformed();
}
