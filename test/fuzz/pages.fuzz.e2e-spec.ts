import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  concretePath,
  cookieNamed,
  csrfPair,
  type CsrfPair,
  pageGetRoutes,
  pagePostRoutes,
  type PageRoute,
} from '../support/page-routes.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { createPageFixture, fillParam, manageLink, type PageFixture } from '../web/victim-pages.js';
import { nasty, nastyString, toJson } from './generators.js';

/*
 * Property-based fuzzing of the pages: every GET page route with arbitrary query strings, every
 * POST page route with arbitrary form bodies carrying a valid CSRF cookie and token (so they reach
 * the handler), with and without the victim's session. The answer is never a 5xx, always a page
 * (text/html) or a redirect, never JSON and never a stack trace. The routes come from the running
 * app, so a page added later is fuzzed with no edit here.
 *
 * Same knobs as the API fuzz: FUZZ_RUNS requests per route, FUZZ_SEED (a number or `random`).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);
const SEED = process.env.FUZZ_SEED === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED ?? 20261206);
const STACK_TRACE = /\bat (?:async )?[\w$.<>]+ \(|\.(?:ts|js):\d+:\d+|node:internal/;

/** Pieces of a query string, broken percent-escapes and bracket syntax included. */
const QUERY_PIECES = [
  'a',
  '=',
  '&',
  '&&',
  '%',
  '%00',
  '%zz',
  '%E2%80%AE',
  '%F0%9F%92',
  '%C0%AF',
  '[',
  ']',
  '[]',
  '[0]',
  '+',
  '..',
  '__proto__',
  'token',
  '?',
  '#',
];

interface PageRequest {
  route: PageRoute;
  path: string;
  query: string;
  body?: { type: string; text: string };
  csrf: 'mine' | 'none';
  session: boolean;
}

describe('#13 fuzz: generated requests to every page never get a 5xx, JSON or a stack', () => {
  let t: TestApp;
  let fixture: PageFixture;
  let pair: CsrfPair;
  let session: string;
  /** Field names the pages' forms use, so generated bodies reach the handlers' checks. */
  let fieldNames: string[];
  const statuses = new Map<string, Map<number, number>>();
  let count = 0;

  beforeAll(async () => {
    process.stdout.write(`pages fuzz: seed ${SEED}, ${RUNS} runs per route (replay with FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS})\n`);
    t = await startTestApp({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '1000000', CODES_PER_NUMBER_PER_DAY: '1000000' } });
    fixture = await createPageFixture(t);
    pair = await csrfPair(t, fillParam(fixture));
    const linked = await t.http().get(manageLink('en', fixture));
    session = cookieNamed(linked, 'vigil_session') ?? '';
    const names = new Set<string>(['token']);
    for (const route of pageGetRoutes(t)) {
      const res = await t
        .http()
        .get(concretePath(route.url, fillParam(fixture)))
        .set('Cookie', session);
      for (const match of res.text.matchAll(/\bname="([^"]+)"/g)) names.add(match[1]);
    }
    fieldNames = [...names].filter((name) => !['viewport', 'referrer', 'robots', '_csrf'].includes(name));
  }, 120_000);

  afterAll(async () => {
    const lines = [...statuses].map(
      ([route, tally]) =>
        `  ${route}: ${[...tally]
          .sort(([a], [b]) => a - b)
          .map(([status, n]) => `${status}×${n}`)
          .join(' ')}`,
    );
    process.stdout.write(`pages fuzz: ${count} requests\n${lines.join('\n')}\n`);
    await t?.close();
  });

  const shortNasty = nastyString.map((value) => value.slice(0, 1500));
  const key = (): fc.Arbitrary<string> =>
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...fieldNames) },
      { weight: 1, arbitrary: fc.constantFrom('extra', '__proto__', 'a[b]', 'a[]') },
      { weight: 1, arbitrary: shortNasty },
    );
  const value: fc.Arbitrary<string> = fc.oneof(
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '',
        'on',
        'en',
        'es',
        'RELEASED',
        '22:00',
        '07:00',
        'America/Chicago',
        '2468',
        '123456',
        'someone@example.org',
        '+17135550190',
      ),
    },
    { weight: 3, arbitrary: shortNasty },
  );
  const pairs = () => fc.array(fc.tuple(key(), value), { maxLength: 12 });

  function pathFor(route: PageRoute): fc.Arbitrary<string> {
    const params = [...route.url.matchAll(/:(\w+)/g)].map((m) => m[1]);
    return fc
      .tuple(
        ...params.map(() =>
          fc.oneof(
            { weight: 4, arbitrary: fc.constant(undefined) },
            { weight: 1, arbitrary: fc.uuid() },
            // Short enough that the request line stays under Node's limit (a 431 before any route).
            { weight: 1, arbitrary: shortNasty.map((value) => value.slice(0, 300)) },
          ),
        ),
      )
      .map((values) => {
        const given = new Map(params.map((name, i) => [name, values[i]]));
        return concretePath(route.url, (name) => wellFormed(given.get(name) ?? fillParam(fixture)(name)));
      });
  }

  // Node refuses a request line over its header limit (431) before any route sees it; stay under it.
  const query = (): fc.Arbitrary<string> =>
    fc
      .oneof(
        { weight: 3, arbitrary: pairs().map(encodeForm) },
        { weight: 2, arbitrary: fc.array(fc.constantFrom(...QUERY_PIECES), { maxLength: 20 }).map((pieces) => pieces.join('')) },
        { weight: 1, arbitrary: fc.constant('') },
      )
      .map((text) => text.slice(0, 8000).replace(/%[0-9A-Fa-f]?$/, ''));

  function body(): fc.Arbitrary<{ type: string; text: string }> {
    const form = pairs().map(encodeForm);
    return fc.oneof(
      { weight: 6, arbitrary: form.map((text) => ({ type: 'application/x-www-form-urlencoded', text })) },
      {
        weight: 1,
        arbitrary: fc
          .array(fc.constantFrom(...QUERY_PIECES), { maxLength: 20 })
          .map((p) => ({ type: 'application/x-www-form-urlencoded', text: p.join('') })),
      },
      { weight: 1, arbitrary: fc.dictionary(key(), nasty, { maxKeys: 6 }).map((o) => ({ type: 'application/json', text: toJson(o) })) },
      { weight: 1, arbitrary: shortNasty.map((text) => ({ type: 'text/plain', text })) },
    );
  }

  function requests(route: PageRoute): fc.Arbitrary<PageRequest> {
    const post = route.method !== 'GET';
    return fc
      .record({
        path: pathFor(route),
        query: post ? fc.constant('') : query(),
        body: post ? body() : fc.constant(undefined),
        csrf: fc.constantFrom<PageRequest['csrf']>('mine', 'mine', 'mine', 'mine', 'none'),
        session: fc.boolean(),
      })
      .map((r) => Object.assign({ route, ...r }, { [fc.toStringMethod]: () => describeRequest({ route, ...r }) }));
  }

  async function send(request: PageRequest) {
    const target = request.query ? `${request.path}?${request.query}` : request.path;
    const method = request.route.method.toLowerCase() as 'get' | 'post';
    const req = t.http()[method](target).timeout({ response: 20_000, deadline: 60_000 });
    const cookies = [request.csrf === 'mine' ? pair.cookie : '', request.session ? session : ''].filter(Boolean);
    if (cookies.length) req.set('Cookie', cookies.join('; '));
    if (!request.body) return req;
    // The token goes in the body as a form would send it; JSON carries it as a field too.
    let text = request.body.text;
    if (request.csrf === 'mine' && request.body.type === 'application/x-www-form-urlencoded')
      text = `_csrf=${encodeURIComponent(pair.token)}&${text}`;
    if (request.csrf === 'mine' && request.body.type === 'application/json' && text.startsWith('{')) {
      text = `{"_csrf":${JSON.stringify(pair.token)}${text === '{}' ? '' : ','}${text.slice(1)}`;
    }
    return req.set('Content-Type', request.body.type).send(text);
  }

  async function fuzz(routes: PageRoute[]): Promise<void> {
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(requests(route), async (request) => {
          count++;
          let res;
          try {
            res = await send(request);
          } catch (error) {
            throw new Error(`${describeRequest(request)} → no answer (${(error as Error).message})`, { cause: error });
          }
          const name = `${route.method} ${route.url}`;
          const tally = statuses.get(name) ?? new Map<number, number>();
          statuses.set(name, tally.set(res.status, (tally.get(res.status) ?? 0) + 1));
          const said = `${describeRequest(request)} → ${res.status} ${res.headers['content-type']}: ${res.text.slice(0, 300)}`;
          if (res.status >= 500) throw new Error(said);
          if (res.status >= 300 && res.status < 400) {
            if (!String(res.headers.location ?? '').startsWith('/')) throw new Error(`${said} (a redirect must stay on this site)`);
            return;
          }
          if (!/^text\/html/.test(String(res.headers['content-type']))) throw new Error(`${said} (not a page)`);
          if (/^\s*[{[]/.test(res.text)) throw new Error(`${said} (JSON)`);
          if (STACK_TRACE.test(res.text)) throw new Error(`${said} (a stack trace)`);
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: process.env.FUZZ_SHRINK !== 'true' },
      );
    }
  }

  it('#13 fuzz GET pages with arbitrary query strings', () => fuzz(pageGetRoutes(t)), 180_000);

  it('#13 fuzz POST page forms with arbitrary bodies and a valid CSRF pair', async () => {
    // Stopping the registration comes last, so the other forms meet a live session first.
    const routes = pagePostRoutes(t).sort((a, b) => Number(a.url.endsWith('/stop')) - Number(b.url.endsWith('/stop')));
    await fuzz(routes);
  }, 240_000);

  it('#13 fuzz: afterwards the service is healthy, logged no unhandled error, and the forms got past the CSRF check', async () => {
    expect((await t.http().get('/health/ready')).status).toBe(200);
    expect(t.logs.filter((line) => line.includes('"unhandled error"'))).toEqual([]);
    const posted = [...statuses].filter(([route]) => !route.startsWith('GET ')).flatMap(([, tally]) => [...tally.keys()]);
    // Generated forms reached the handlers (a page with the mistakes, or a redirect), not only the 403.
    expect(posted.some((status) => status !== 403)).toBe(true);
  });
});

/** Pairs as a query string or form body, each key and value made well-formed UTF-8 first. */
function encodeForm(pairs: [string, string][]): string {
  return new URLSearchParams(pairs.map(([k, v]): [string, string] => [wellFormed(k), wellFormed(v)])).toString();
}

function wellFormed(value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8');
}

function describeRequest(request: Omit<PageRequest, 'route'> & { route: PageRoute }): string {
  const target = (request.query ? `${request.path}?${request.query}` : request.path).slice(0, 400);
  const body = request.body ? ` ${request.body.type} ${JSON.stringify(request.body.text.slice(0, 200))}` : '';
  return `${request.route.method} ${target}${body} (csrf: ${request.csrf}, session: ${request.session})`;
}
