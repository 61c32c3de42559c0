import { afterAll, describe, expect, it } from 'vitest';
import { bookPerson } from '../support/registrations.js';
import { createSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** Signs up through the page and answers the session cookie's Set-Cookie line. */
async function sessionCookieOf(t: TestApp): Promise<string> {
  const source = await createSource(t);
  const personId = await bookPerson(t, source, `A-730-${Date.now() % 1_000_000}`);
  // Cookies passed by hand: a Secure cookie would not go back over the test's plain http.
  const form = await t.http().get(`/en/people/${personId}/register`);
  const cookies = (form.headers['set-cookie'] as unknown as string[]).map((line) => line.split(';', 1)[0]).join('; ');
  const _csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1];
  const res = await t
    .http()
    .post(`/en/people/${personId}/register`)
    .set('Cookie', cookies)
    .type('form')
    .send({ _csrf, email: 'cookie-check@example.org' });
  expect(res.status, res.text.slice(0, 300)).toBe(303);
  const line = (res.headers['set-cookie'] as unknown as string[]).find((cookie) => cookie.startsWith('vigil_session='));
  expect(line).toBeDefined();
  return line!;
}

describe('#13 the victim session cookie is what DESIGN says: HttpOnly, SameSite=Lax, Path=/, no expiry, Secure on https', () => {
  const apps: TestApp[] = [];
  afterAll(() => Promise.all(apps.map((t) => t.close())));

  it('#13 on http: HttpOnly, SameSite=Lax, Path=/, no Max-Age or Expires, not Secure', async () => {
    const t = await startTestApp();
    apps.push(t);
    const cookie = await sessionCookieOf(t);
    expect(cookie).toMatch(/;\s*HttpOnly/i);
    expect(cookie).toMatch(/;\s*SameSite=Lax/i);
    expect(cookie).toMatch(/;\s*Path=\/(;|$)/i);
    expect(cookie).not.toMatch(/Max-Age|Expires/i);
    expect(cookie).not.toMatch(/;\s*Secure/i);
    // The sealed value shows nothing of the registration or its token.
    expect(cookie).not.toMatch(/vmt_|cookie-check/);
  });

  it('#13 behind an https PUBLIC_BASE_URL the session and CSRF cookies are Secure', async () => {
    const t = await startTestApp({ env: { PUBLIC_BASE_URL: 'https://vigil.example.org' } });
    apps.push(t);
    expect(await sessionCookieOf(t)).toMatch(/;\s*Secure/i);
    const page = await t.http().get('/en/');
    const csrf = (page.headers['set-cookie'] as unknown as string[]).find((cookie) => cookie.startsWith('vigil_csrf='));
    expect(csrf).toMatch(/;\s*Secure/i);
  });
});
