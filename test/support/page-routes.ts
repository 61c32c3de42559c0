import { isPagePath } from '../../src/web/page-paths.js';
import type { TestApp } from './test-app.js';

export interface PageRoute {
  method: string;
  /** Fastify's pattern, parameters as `:name`. */
  url: string;
}

/**
 * Every page route the running app serves, read from Fastify's own route table (printRoutes), so a
 * route added later is covered without editing a test. Wildcards (the static assets, Swagger's
 * files) are left out: they are not pages.
 */
export function pageRoutes(t: TestApp): PageRoute[] {
  return allRoutes(t).filter((route) => isPagePath(route.url) && !route.url.includes('*'));
}

/** Page routes that change something: each one must refuse a request without a valid CSRF token. */
export function pagePostRoutes(t: TestApp): PageRoute[] {
  return pageRoutes(t).filter((route) => route.method !== 'GET' && route.method !== 'HEAD');
}

export function pageGetRoutes(t: TestApp): PageRoute[] {
  return pageRoutes(t).filter((route) => route.method === 'GET');
}

/**
 * The route table as method + full path. printRoutes draws a tree whose lines carry the segment
 * after their parent's and the methods in brackets; each level indents by four characters.
 */
export function allRoutes(t: TestApp): PageRoute[] {
  const tree = t.app.getHttpAdapter().getInstance().printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const routes: PageRoute[] = [];
  for (const line of tree.split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1].length / 4;
    stack.length = depth;
    const url = `${stack.join('')}${match[2]}`;
    stack.push(match[2]);
    for (const method of (match[3] ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean))
      routes.push({ method, url });
  }
  const known =
    routes.some((r) => r.method === 'POST' && r.url === '/v1/registrations') &&
    routes.some((r) => r.method === 'GET' && r.url === '/en/search');
  // A change in printRoutes' drawing must fail here, not leave the CSRF and fuzz suites with nothing to check.
  if (!known) throw new Error(`could not read the route table; printRoutes drew:\n${tree}`);
  return routes;
}

/** A concrete path for a route pattern: each `:param` filled in by `fill`. */
export function concretePath(url: string, fill: (param: string) => string): string {
  return url.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(fill(name)));
}

export interface CsrfPair {
  /** The CSRF secret's cookie, as a Cookie header (and nothing else: no session). */
  cookie: string;
  /** The `_csrf` value a form rendered with that cookie carries. */
  token: string;
}

/**
 * A fresh browser's CSRF cookie and the token its forms carry, taken from the first GET page that
 * renders a `_csrf` field: the pages themselves are the source, so no test has to know which page
 * holds a form. `fill` supplies path parameters (a real person for the sign-up page).
 */
export async function csrfPair(t: TestApp, fill: (param: string) => string, sessionCookie?: string): Promise<CsrfPair> {
  for (const route of pageGetRoutes(t)) {
    const req = t.http().get(concretePath(route.url, fill));
    if (sessionCookie) req.set('Cookie', sessionCookie);
    const res = await req;
    const token = /name="_csrf" value="([^"]+)"/.exec(res.text)?.[1];
    const cookie = cookieNamed(res, 'vigil_csrf');
    if (token && cookie) return { cookie, token };
  }
  throw new Error(`no GET page rendered a _csrf field${sessionCookie ? ' (with a session)' : ''}`);
}

/** One cookie a response set, as `name=value` for a Cookie header. */
export function cookieNamed(res: { headers: Record<string, unknown> }, name: string): string | undefined {
  const set = (res.headers['set-cookie'] as string[] | undefined) ?? [];
  return set.map((line) => line.split(';', 1)[0]).find((pair) => pair.startsWith(`${name}=`));
}
