import fc from 'fast-check';

/*
 * Arbitraries built from the OpenAPI description: values that fit a schema closely enough to reach
 * the services, with hostile values mixed in at every depth (wrong types, arrays for objects, huge
 * and unicode strings, control characters, deep nesting, missing and extra fields).
 */

export interface Schema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  example?: unknown;
  nullable?: boolean;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
}

/** Nesting too deep to build as an object in the test (JSON.stringify would overflow): serialized as text. */
export class DeepNest {
  constructor(
    readonly depth: number,
    readonly kind: 'object' | 'array',
  ) {}
}

/** JSON text for a generated value, `DeepNest` included. */
export function toJson(value: unknown): string {
  if (value instanceof DeepNest) {
    return value.kind === 'object'
      ? `${'{"a":'.repeat(value.depth)}1${'}'.repeat(value.depth)}`
      : `${'['.repeat(value.depth)}${']'.repeat(value.depth)}`;
  }
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u0001\u0007\u001b\u001f',
  '\t\n\r',
  '\u007f\u0085\u2028\u2029',
  '\ud800',
  '\udfff\ud800',
  '\ufeff',
  'e\u0301\u0308\u0301',
  '💥🏳️‍🌈👩‍👩‍👧‍👦',
  'Ω≈ç√∫˜µ≤≥÷',
  'ﷺ',
  '𝕿𝖍𝖊',
  '%00',
  '%',
  '\\',
  '"',
  "' OR 1=1 --",
  '$1',
  '${x}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '__proto__',
  'constructor',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e400',
  '0x10',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '-100000-01-01T00:00:00Z',
  '+275760-09-13T00:00:00.000Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59+14:00',
  '2026-02-30T10:00:00Z',
  '24:00',
  'Etc/GMT+99',
  'America/../UTC',
  '+0000000000',
  '+1999999999999999999',
  'a@b',
  'Bearer ',
];

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom('x', 'é', '💥', '\u0000', ' '), fc.integer({ min: 100, max: 70_000 })).map(([c, n]) => c.repeat(n)),
  },
);

const deepNest: fc.Arbitrary<unknown> = fc.oneof(
  fc.tuple(fc.integer({ min: 5, max: 60 }), fc.constantFrom('object' as const, 'array' as const)).map(([d, k]) => shallowNest(d, k)),
  fc
    .tuple(fc.integer({ min: 1_000, max: 100_000 }), fc.constantFrom('object' as const, 'array' as const))
    .map(([d, k]) => new DeepNest(d, k)),
);

function shallowNest(depth: number, kind: 'object' | 'array'): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = kind === 'object' ? { a: value } : [value];
  return value;
}

/** Anything that a client could send in place of a value. */
export const nasty: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: nastyString },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      null,
      true,
      false,
      0,
      -0,
      -1,
      1.5,
      1e308,
      -1e308,
      2 ** 53 + 1,
      [],
      {},
      [[]],
      [{}],
      [null],
      { '': null },
      { __proto__: 1 },
    ),
  },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: deepNest },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(nastyStringShort(), { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(nastyStringShort(), nastyStringShort(), { maxKeys: 4 }) },
);

function nastyStringShort(): fc.Arbitrary<string> {
  return fc.oneof(fc.constantFrom(...NASTY_STRINGS), fc.string({ unit: 'binary', maxLength: 10 }));
}

export interface GeneratorContext {
  /** Resolves `#/components/schemas/X`. */
  resolve: (ref: string) => Schema;
  /** Ids that exist, for uuid fields (so requests reach the services). */
  knownIds: string[];
}

/** A value for the schema: usually one that fits, sometimes hostile (at this level or any below). */
export function valueFor(schema: Schema, ctx: GeneratorContext, depth = 0): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 6, arbitrary: fitting(schema, ctx, depth) }, { weight: 1, arbitrary: nasty });
}

function fitting(input: Schema, ctx: GeneratorContext, depth: number): fc.Arbitrary<unknown> {
  const schema = input.$ref ? ctx.resolve(input.$ref) : input;
  if (depth > 8) return nasty;
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((s) => fitting(s, ctx, depth + 1)));
  if (schema.allOf) return fitting(Object.assign({}, ...schema.allOf.map((s) => (s.$ref ? ctx.resolve(s.$ref) : s))), ctx, depth);
  const base = byType(schema, ctx, depth);
  return schema.nullable ? fc.oneof({ weight: 5, arbitrary: base }, { weight: 1, arbitrary: fc.constant(null) }) : base;
}

function byType(schema: Schema, ctx: GeneratorContext, depth: number): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum?.length) return fc.constantFrom(...schema.enum);
  const type = Array.isArray(schema.type) ? schema.type[0] : (schema.type ?? (schema.properties ? 'object' : undefined));
  switch (type) {
    case 'string':
      return stringFor(schema, ctx);
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e9, max: schema.maximum ?? 1e9, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(valueFor(schema.items ?? {}, ctx, depth + 1), {
        minLength: Math.min(schema.minItems ?? 0, 3),
        maxLength: Math.min(schema.maxItems ?? 3, 3),
      });
    case 'object':
      return objectFor(schema, ctx, depth);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function stringFor(schema: Schema, ctx: GeneratorContext): fc.Arbitrary<string> {
  const options: fc.Arbitrary<string>[] = [];
  if (typeof schema.example === 'string') options.push(fc.constant(schema.example));
  switch (schema.format) {
    case 'uuid':
      options.push(fc.constantFrom(...ctx.knownIds), fc.uuid());
      break;
    case 'date-time':
      options.push(fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date(), noInvalidDate: true }).map((d) => d.toISOString()));
      break;
    case 'date':
      options.push(
        fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date(), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
      );
      break;
    case 'email':
      options.push(fc.emailAddress());
      break;
  }
  if (schema.pattern) {
    try {
      options.push(fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length <= (schema.maxLength ?? 1000)));
    } catch {
      // a pattern fast-check cannot generate from: the other options stand in
    }
  }
  options.push(fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 30, 30) }));
  return fc.oneof(...options);
}

function objectFor(schema: Schema, ctx: GeneratorContext, depth: number): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  const required = schema.required ?? [];
  const record = fc.record(Object.fromEntries(Object.entries(properties).map(([name, s]) => [name, valueFor(s, ctx, depth + 1)])), {
    requiredKeys: required.filter((name) => name in properties),
  });
  const additional =
    typeof schema.additionalProperties === 'object'
      ? fc.dictionary(fc.string({ maxLength: 8 }), valueFor(schema.additionalProperties, ctx, depth + 1), { maxKeys: 3 })
      : fc.constant({});
  return fc
    .tuple(
      record,
      additional,
      // missing required fields, and extra ones
      fc.option(fc.constantFrom(...(required.length ? required : ['-'])), { freq: 8 }),
      fc.option(fc.tuple(fc.oneof(fc.constantFrom('extra', '__proto__', 'constructor', ''), nastyStringShort()), nasty), { freq: 8 }),
    )
    .map(([fields, more, drop, extra]) => {
      const value: Record<string, unknown> = { ...more, ...fields };
      if (drop) delete value[drop];
      if (extra) Object.defineProperty(value, extra[0], { value: extra[1], enumerable: true, writable: true, configurable: true });
      return value;
    });
}

/** A known-good body with one thing wrong in it: a value replaced, removed, added, or wrapped in an array. */
export function mutated(good: unknown): fc.Arbitrary<unknown> {
  const paths = pathsOf(good);
  return fc
    .tuple(fc.constantFrom(...paths), fc.constantFrom('replace', 'delete', 'extra', 'wrap', 'unwrap'), nasty)
    .map(([path, action, value]) => applyMutation(structuredClone(good), path, action, value));
}

function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const here = [prefix];
  if (Array.isArray(value)) return [...here, ...value.flatMap((v, i) => pathsOf(v, [...prefix, i]))];
  if (value && typeof value === 'object') return [...here, ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
  return here;
}

function applyMutation(root: unknown, path: (string | number)[], action: string, value: unknown): unknown {
  if (!path.length) return action === 'wrap' ? [root] : action === 'replace' ? value : root;
  const parent = path.slice(0, -1).reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], root) as Record<
    string | number,
    unknown
  >;
  const key = path[path.length - 1];
  if (action === 'replace') parent[key] = value;
  else if (action === 'delete') delete parent[key];
  else if (action === 'wrap') parent[key] = [parent[key]];
  else if (action === 'unwrap') parent[key] = Array.isArray(parent[key]) ? (parent[key] as unknown[])[0] : {};
  else if (parent[key] && typeof parent[key] === 'object' && !Array.isArray(parent[key]))
    (parent[key] as Record<string, unknown>).extra = value;
  else parent[`${String(key)}Extra`] = value;
  return root;
}
