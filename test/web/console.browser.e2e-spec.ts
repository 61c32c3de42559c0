import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESKTOP, expectNoSeriousAxeViolations, launchBrowser, newPage, PHONE, saveScreenshot, tabTo } from '../support/browser.js';
import { type ConsoleBrowser, consoleSignIn, csrfOn } from '../support/console.js';
import { CONSOLE_DOOR, consoleRoutes, type ConsoleRoute, isAdminOnly } from '../support/console-routes.js';
import { concretePath } from '../support/page-routes.js';
import { ADMIN, startTestApp, type TestApp } from '../support/test-app.js';
import { CONSOLE_PAGES, type ConsoleSeed, inLang, seedConsole } from './console-pages.js';

const BROWSER_TEST_TIMEOUT = 240_000;
const LANGS = ['en', 'es'] as const;

/*
 * The whole console, its page list read from the app's router: every GET page through axe in
 * English and Spanish at phone and desktop widths with seeded data (CONSOLE_PAGES in
 * console-pages.ts says what to open for each route; a route missing there fails), every admin
 * route refused to a specialist as a 403 page and every specialist page open to them (by each
 * route's ConsoleOnly metadata; a route without it fails), and the staff form by keyboard alone.
 */
describe('#14.3 the staff console in Chromium', { timeout: BROWSER_TEST_TIMEOUT }, () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let seed: ConsoleSeed;
  let routes: ConsoleRoute[];

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestApp({ env: { LOGIN_RATE_LIMIT_PER_MINUTE: '1000' } }), launchBrowser()]);
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    seed = await seedConsole(t);
    routes = consoleRoutes(t);
  }, BROWSER_TEST_TIMEOUT);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function signIn(page: Page, email: string, password: string): Promise<void> {
    await page.goto(`${base}/console/login`);
    await page.fill('#field-email', email);
    await page.fill('#field-password', password);
    await page.locator('form[action="/console/login"] button[type="submit"]').click();
    await page.waitForURL(`${base}/console/`);
  }

  const getRoutes = () => routes.filter((route) => route.method === 'GET');

  it('#14.3 the router’s console pages are all in CONSOLE_PAGES (a page without seed data fails here), and the map names no route the router lacks', () => {
    const served = getRoutes().map((route) => route.url);
    expect(served, 'the router lists the console pages').toEqual(expect.arrayContaining(['/console', '/console/staff', '/console/audit']));
    expect(
      served.filter((url) => !(url in CONSOLE_PAGES)),
      'console GET routes with no entry in CONSOLE_PAGES (test/web/console-pages.ts)',
    ).toEqual([]);
    expect(
      Object.keys(CONSOLE_PAGES).filter((url) => !served.includes(url)),
      'CONSOLE_PAGES entries the router does not serve',
    ).toEqual([]);
  });

  it('#14.3 every console GET page, signed in as an admin with data seeded, has no serious or critical axe violation in English and Spanish at 390 and 1280 px', async () => {
    const failures: string[] = [];
    const checked: string[] = [];
    const signedIn = await newPage(browser, { viewport: DESKTOP });
    await signIn(signedIn, ADMIN.email, ADMIN.password);
    const signedOut = await newPage(browser, { viewport: DESKTOP });
    for (const route of getRoutes()) {
      const entry = CONSOLE_PAGES[route.url];
      if (!entry) {
        failures.push(`${route.url}: no entry in CONSOLE_PAGES`);
        continue;
      }
      const page = entry.signedOut ? signedOut : signedIn;
      for (const path of entry.paths(seed)) {
        for (const lang of LANGS) {
          const response = await page.goto(`${base}${inLang(path, lang)}`);
          const label = `${path} (${lang})`;
          if (response?.status() !== 200) {
            failures.push(`${label}: answered ${response?.status()}`);
            continue;
          }
          expect(await page.getAttribute('html', 'lang'), label).toBe(lang);
          if ((await page.locator(entry.shows).count()) === 0) failures.push(`${label}: shows nothing matching ${entry.shows}`);
          for (const viewport of [PHONE, DESKTOP]) {
            await page.setViewportSize(viewport);
            try {
              await expectNoSeriousAxeViolations(page);
            } catch (error) {
              failures.push(`${label} at ${viewport.width} px: ${(error as Error).message}`);
            }
          }
          const name = `console${path
            .split('?', 1)[0]
            .replace(/^\/console/, '')
            .replace(/\/[0-9a-f-]{36}/g, '-id')
            .replace(/\//g, '-')}`.replace(/-+$/, '');
          await saveScreenshot(page, `${name}-${lang}-${DESKTOP.width}`);
          checked.push(label);
        }
      }
    }
    await signedIn.context().close();
    await signedOut.context().close();
    expect(failures).toEqual([]);
    expect(checked.length).toBe(Object.values(CONSOLE_PAGES).reduce((n, entry) => n + entry.paths(seed).length * LANGS.length, 0));
  });

  it('#14.3 a specialist gets a 403 page on every admin route (GET and POST) and a 200 on every specialist page; every route but the door carries ConsoleOnly', async () => {
    const specialist: ConsoleBrowser = await consoleSignIn(t, seed.specialist.email, seed.specialist.password);
    const _csrf = csrfOn(await specialist.get('/console/'));
    const unmarked = routes.filter((route) => route.roles === undefined && !CONSOLE_DOOR.includes(`${route.method} ${route.url}`));
    expect(
      unmarked.map((route) => `${route.method} ${route.url}`),
      'console routes without ConsoleOnly',
    ).toEqual([]);
    const admin = routes.filter(isAdminOnly);
    expect(admin.map((route) => `${route.method} ${route.url}`)).toEqual(
      expect.arrayContaining(['GET /console/staff', 'POST /console/staff', 'POST /console/staff/:id/password', 'GET /console/audit']),
    );
    const problems: string[] = [];
    for (const route of routes) {
      if (CONSOLE_DOOR.includes(`${route.method} ${route.url}`) || route.roles === undefined) continue;
      const label = `${route.method} ${route.url}`;
      if (route.method === 'GET') {
        const entry = CONSOLE_PAGES[route.url];
        if (!entry) {
          problems.push(`${label}: no entry in CONSOLE_PAGES`);
          continue;
        }
        for (const path of entry.paths(seed)) {
          const res = await specialist.get(path);
          const expected = isAdminOnly(route) ? 403 : 200;
          if (res.status !== expected) problems.push(`${label} (${path}): ${res.status}, expected ${expected}`);
          else if (expected === 403 && !res.text.includes('This page is for administrators.')) problems.push(`${label}: not the 403 page`);
        }
        continue;
      }
      // A form: the specialist's own CSRF token gets it past the CSRF check to the role check.
      const path = concretePath(route.url, (param) => (param === 'code' ? 'HCJ-1' : randomUUID()));
      const res = await specialist[route.method.toLowerCase() as 'post'](path)
        .type('form')
        .send({ _csrf, email: 'sneaky@test.vigil', role: 'admin', reason: 'sneaky', name: 'Sneaky' });
      if (isAdminOnly(route)) {
        if (res.status !== 403 || !res.text.includes('This page is for administrators.'))
          problems.push(`${label}: ${res.status}, expected the 403 page`);
      } else if (res.status === 403 || res.status >= 500) {
        problems.push(`${label}: ${res.status} for a specialist`);
      }
    }
    expect(problems).toEqual([]);
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM staff WHERE email = 'sneaky@test.vigil'`);
    expect(rows[0].n).toBe(0);
  });

  it('#14.3 the staff form by keyboard alone: Tab to each field, choose the role with the arrow keys, submit with Enter', async () => {
    const page = await newPage(browser, { viewport: DESKTOP });
    await signIn(page, ADMIN.email, ADMIN.password);
    await page.goto(`${base}/console/staff`);
    await tabTo(page, '#field-email', 200);
    await page.keyboard.type('keyboard.admin@test.vigil');
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('field-role');
    await page.keyboard.press('ArrowUp');
    await expect(page.inputValue('#field-role')).resolves.toBe('admin');
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => (document.activeElement as HTMLButtonElement | null)?.textContent)).resolves.toBe('Add staff member');
    // The form posts to the page it is on: wait for the answer, not for an address the page already has.
    await Promise.all([
      page.waitForResponse((res) => res.request().method() === 'POST' && new URL(res.url()).pathname === '/console/staff'),
      page.keyboard.press('Enter'),
    ]);
    await page.waitForSelector('[data-secret="password"]');
    await expect(page.locator('h1').textContent()).resolves.toBe('Staff member added');
    const password = (await page.locator('[data-secret="password"]').textContent())!;
    expect(password).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){4}$/);
    const { rows } = await t.db.query(`SELECT role, disabled FROM staff WHERE email = 'keyboard.admin@test.vigil'`);
    expect(rows).toEqual([{ role: 'admin', disabled: false }]);
    await saveScreenshot(page, 'console-staff-created-en-1280');
    await page.context().close();
    const fresh = await newPage(browser, { viewport: PHONE });
    await signIn(fresh, 'keyboard.admin@test.vigil', password);
    await fresh.context().close();
  });
});
