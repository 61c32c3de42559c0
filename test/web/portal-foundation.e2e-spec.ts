import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookPerson } from '../support/registrations.js';
import { createSource, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** Cookies a response set, as a Cookie header for the next request. */
function cookiesOf(res: { headers: Record<string, unknown> }): string {
  const set = (res.headers['set-cookie'] as string[] | undefined) ?? [];
  return set.map((line) => line.split(';', 1)[0]).join('; ');
}

describe('#13 victim pages: the frame every page shares', () => {
  let t: TestApp;
  let source: TestSource;

  beforeAll(async () => {
    t = await startTestApp({ env: { QUICK_EXIT_URL: 'https://example.org/weather' } });
    source = await createSource(t);
  });
  afterAll(() => t.close());

  it('#13 GET / answers 303 to the language the browser prefers, English for any other', async () => {
    expect((await t.http().get('/').set('Accept-Language', 'es-MX,es;q=0.9,en;q=0.5')).headers.location).toBe('/es/');
    expect((await t.http().get('/').set('Accept-Language', 'fr-FR, en;q=0.1, es;q=0.8')).headers.location).toBe('/es/');
    const other = await t.http().get('/').set('Accept-Language', 'de-DE,de');
    expect(other.status).toBe(303);
    expect(other.headers.location).toBe('/en/');
    expect((await t.http().get('/')).headers.location).toBe('/en/');
  });

  it('#13 every page sends no-store, no-referrer and a CSP with default-src self, and has lang, hreflang and the quick exit first', async () => {
    for (const [path, lang, other] of [
      ['/en/', 'en', '/es/'],
      ['/es/help', 'es', '/en/help'],
    ] as const) {
      const res = await t.http().get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['content-security-policy']).toMatch(/(^|;\s*)default-src 'self'/);
      expect(res.text).toContain(`<html lang="${lang}">`);
      expect(res.text).toContain(`<link rel="alternate" hreflang="${lang === 'en' ? 'es' : 'en'}" href="${other}">`);
      const body = res.text.slice(res.text.indexOf('<body>'));
      const firstFocusable = /<(a|button|input|select|textarea)\b[^>]*>/.exec(body)![0];
      expect(firstFocusable).toContain('id="quick-exit"');
      expect(firstFocusable).toContain('href="https://example.org/weather"');
      expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)/);
      expect(res.text).not.toMatch(/\sstyle=|\son[a-z]+=/);
    }
  });

  it('#13 the help page puts 911 first and the seeds’ hotlines as tap-to-call links, in both languages', async () => {
    const en = await t.http().get('/en/help');
    const main = en.text.slice(en.text.indexOf('<main'));
    expect(main.indexOf('911')).toBeLessThan(main.indexOf('1-888-373-7888'));
    expect(en.text).toContain('href="tel:911"');
    for (const tel of ['+18883737888', '+18554886423', '+18663472423']) expect(en.text).toContain(`href="tel:${tel}"`);
    const es = await t.http().get('/es/help');
    expect(es.text).toContain('Llame al 911');
    expect(es.text).toContain('Centro Nacional de Recursos contra la Trata de Personas');
    expect(es.text).toContain('data-event-type="RELEASED"');
  });

  it('#13 search finds a booked adult and links to the sign-up page; results are no-store and carry no victim data in the title', async () => {
    const personId = await bookPerson(t, source, 'A-555-100-200', { firstName: 'Marco', lastName: 'Quintero' });
    const res = await t.http().get('/es/search').query({ identifierSystem: 'A_NUMBER', identifier: 'a555 100 200' });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('Marco Quintero');
    expect(res.text).toContain('Bajo custodia');
    expect(res.text).toContain(`href="/es/people/${personId}/register"`);
    expect(/<title>([^<]*)<\/title>/.exec(res.text)![1]).not.toContain('Quintero');
    // The language switch keeps the search.
    expect(res.text).toMatch(/hreflang="en" href="\/en\/search\?identifierSystem=A_NUMBER&amp;identifier=a555\+100\+200"/);
    const byName = await t.http().get('/en/search').query({ lastName: 'quintero', firstName: 'MARCO', dateOfBirth: '' });
    expect(byName.text).toContain('Marco Quintero');
  });

  it('#13 a number copied from a letter finds the person: typographic dashes and full-width characters count as the plain ones', async () => {
    await bookPerson(t, source, 'A-555-100-300', { firstName: 'Elena', lastName: 'Varga' });
    for (const identifier of [
      'A\u2010555\u2010100\u2010300',
      'A\u2013555\u2013100\u2013300',
      'A\u2011555\u2212100\u2014300',
      '\uFF21\uFF15\uFF15\uFF15100300',
      'A-555\u00AD-100\u200B-300',
    ]) {
      const res = await t.http().get('/es/search').query({ identifierSystem: 'A_NUMBER', identifier });
      expect(res.status, identifier).toBe(200);
      expect(res.text, identifier).toContain('Elena Varga');
      const api = await t.http().get('/v1/people').query({ identifierSystem: 'A_NUMBER', identifier });
      expect(
        api.body.people?.map((p: { displayName: string }) => p.displayName),
        identifier,
      ).toEqual(['Elena Varga']);
    }
  });

  it('#13 a name typed with a phone’s curly apostrophe finds the person recorded with a straight one, and the other way round', async () => {
    await bookPerson(t, source, 'A-555-100-301', { firstName: 'Siobhan', lastName: "O'Brien" });
    await bookPerson(t, source, 'A-555-100-302', { firstName: 'Luca', lastName: 'D\u2019Angelo' });
    for (const [lastName, firstName, name] of [
      ['O\u2019Brien', 'Siobhan', 'Siobhan O&#39;Brien'],
      ["D'Angelo", 'Luca', 'Luca D\u2019Angelo'],
    ]) {
      const res = await t.http().get('/en/search').query({ lastName, firstName });
      expect(res.status, lastName).toBe(200);
      expect(res.text, lastName).toContain(name);
    }
  });

  it('#13 a search with mistakes is shown again with the input kept and each mistake tied to its field', async () => {
    const res = await t.http().get('/en/search').query({ lastName: 'Quintero', firstName: '', dateOfBirth: '27/03/1990' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('value="Quintero"');
    expect(res.text).toContain('value="27/03/1990"');
    expect(res.text).toMatch(/id="field-firstName"[^>]*aria-describedby="error-firstName"[^>]*aria-invalid="true"[^>]*autofocus/);
    expect(res.text).toMatch(/id="field-dateOfBirth"[^>]*aria-describedby="hint-dateOfBirth error-dateOfBirth"/);
    const empty = await t.http().get('/es/search');
    expect(empty.status).toBe(422);
    expect(empty.text).toContain('Escriba un tipo de número y el número');
  });

  it('#13 hostile queries (arrays, NUL, huge values) get a page with the mistake, never a 5xx or JSON', async () => {
    for (const query of [
      'lastName=a&lastName=b&firstName=c',
      'identifier=%00%00&identifierSystem=A_NUMBER',
      `identifier=${'9'.repeat(5000)}`,
      'identifierSystem[x]=1&identifier=1',
      'lastName=%F0%9F%92%A9&firstName=%E2%80%AE',
    ]) {
      const res = await t.http().get(`/en/search?${query}`);
      expect(res.status, query).toBeLessThan(500);
      expect(res.headers['content-type'], query).toMatch(/^text\/html/);
    }
  });

  it('#13 errors under a page path are pages in that language with the API status, the quick exit and no stack', async () => {
    const missing = await t.http().get('/es/no-such-page');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^text\/html/);
    expect(missing.headers['cache-control']).toBe('no-store');
    expect(missing.text).toContain('No se encontró la página');
    expect(missing.text).toContain('id="quick-exit"');
    const api = await t.http().get('/v1/no-such-route');
    expect(api.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('#13 an address the router cannot decode (broken percent-encoding) is a 400 page under a page path and problem+json under /v1', async () => {
    const page = await t.http().get('/es/people/%ZZ/register');
    expect(page.status).toBe(400);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.text).toContain('Algo en esa solicitud no era correcto');
    expect(page.text).toContain('id="quick-exit"');
    expect(page.text).not.toContain('FST_ERR');
    const api = await t.http().post('/v1/registrations/%ZZ/contacts/%ZZ/verify').send({ code: '123456' });
    expect(api.status).toBe(400);
    expect(api.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(api.body).toMatchObject({ status: 400, title: 'Bad Request' });
    expect(api.text).not.toContain('FST_ERR');
  });

  it('#13 the stylesheet and script are served from this site; the CSRF and session cookies are HttpOnly with SameSite', async () => {
    const css = await t.http().get('/assets/vigil.css');
    expect(css.status).toBe(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    const js = await t.http().get('/assets/vigil.js');
    expect(js.status).toBe(200);
    expect(js.text).toContain('Escape');
    const page = await t.http().get('/en/');
    const cookies = (page.headers['set-cookie'] as unknown as string[]) ?? [];
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) {
      expect(cookie).toMatch(/;\s*HttpOnly/i);
      expect(cookie).toMatch(/;\s*SameSite=(Lax|Strict)/i);
    }
    expect(cookiesOf(page)).toContain('vigil_csrf=');
  });
});
