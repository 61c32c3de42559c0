import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concretePath, csrfPair, type CsrfPair, pageGetRoutes, pagePostRoutes, type PageRoute } from '../support/page-routes.js';
import { victimLangOf } from '../../src/web/page-paths.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { createPageFixture, fillParam, type PageFixture } from './victim-pages.js';

/*
 * Every page route that changes something, read from the running app's route table (so a route
 * added later is covered with no edit here), must refuse a form without a valid CSRF token as a
 * 403 page: no token, a forged one, or a real token from another browser's cookie.
 */
describe('#13 CSRF on every page form', () => {
  let t: TestApp;
  let fixture: PageFixture;
  let mine: CsrfPair;
  let theirs: CsrfPair;

  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '100000' } });
    fixture = await createPageFixture(t);
    mine = await csrfPair(t, fillParam(fixture));
    theirs = await csrfPair(t, fillParam(fixture));
  });
  afterAll(() => t?.close());

  function post(route: PageRoute, cookie: string | undefined, fields: Record<string, string>) {
    const req = t
      .http()
      [route.method.toLowerCase() as 'post'](concretePath(route.url, fillParam(fixture)))
      .type('form')
      .send(new URLSearchParams(fields).toString());
    return cookie ? req.set('Cookie', cookie) : req;
  }

  it('#13 the route table is read from the app: the search, help and every form page are in it', () => {
    const gets = pageGetRoutes(t).map((route) => route.url);
    expect(gets).toEqual(expect.arrayContaining(['/en', '/es', '/en/search', '/es/search', '/en/help', '/es/help']));
    expect(gets.some((url) => url.startsWith('/v1/'))).toBe(false);
    // Two fresh browsers got different secrets, so "another browser's token" below is a real one.
    expect(mine.token).not.toBe(theirs.token);
    expect(mine.cookie).not.toBe(theirs.cookie);
  });

  it('#13 every POST page route answers 403 as a page without _csrf, with a forged _csrf, and with another browser’s token', async () => {
    const routes = pagePostRoutes(t);
    // Sign-up, verify and manage post forms: an empty list means the enumeration broke, not that all is well.
    expect(routes.length, 'no POST page route found in the app').toBeGreaterThan(0);
    const forged = `${mine.token.slice(0, -4)}AAAA`;
    const cases: [string, string | undefined, Record<string, string>][] = [
      ['no _csrf', mine.cookie, {}],
      ['empty _csrf', mine.cookie, { _csrf: '' }],
      ['forged _csrf', mine.cookie, { _csrf: forged }],
      ['another browser’s token', mine.cookie, { _csrf: theirs.token }],
      ['a token with no cookie', undefined, { _csrf: mine.token }],
    ];
    for (const route of routes) {
      for (const [what, cookie, fields] of cases) {
        const res = await post(route, cookie, { ...fields, email: 'someone@example.org', code: '123456' });
        const label = `${route.method} ${route.url} with ${what}`;
        expect(res.status, label).toBe(403);
        expect(res.headers['content-type'], label).toMatch(/^text\/html/);
        expect(res.text, label).toMatch(/^<!doctype html>/i);
        // Victim pages carry the quick exit; console pages need none.
        if (victimLangOf(route.url)) expect(res.text, label).toContain('id="quick-exit"');
        expect(res.text, label).not.toMatch(/FST_CSRF|"status":|at \S+\.(js|ts):\d+/);
      }
      // The same browser's own pair gets past the check (whatever the handler then makes of the form).
      const own = await post(route, mine.cookie, { _csrf: mine.token });
      expect(own.status, `${route.method} ${route.url} with its own token`).not.toBe(403);
    }
  });
});
