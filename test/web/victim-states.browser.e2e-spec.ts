/// <reference lib="dom" />
// The functions passed to page.evaluate run in the browser.
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newPage, NARROW } from '../support/browser.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { createPageFixture, manageLink, type PageFixture } from './victim-pages.js';

const BROWSER_TEST_TIMEOUT = 90_000;

/* Victim pages in states the page-by-page suite does not open: a code form locked after wrong codes. */
describe('#13 victim pages in their other states, in Chromium', { timeout: BROWSER_TEST_TIMEOUT }, () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let fixture: PageFixture;

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestApp({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '100000' } }), launchBrowser()]);
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    fixture = await createPageFixture(t);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  for (const [lang, wording] of [
    ['en', /about a minute\b/],
    ['es', /un minuto\b/],
  ] as const) {
    it(`#13 a code form locked for under a minute more (${lang}) says "a minute", not "1 minutes", and ties the message to the code field`, async () => {
      await t.db.query(`UPDATE contact SET code_locked_until = now() + interval '30 seconds' WHERE registration_id = $1`, [
        fixture.registrationId,
      ]);
      const page = await newPage(browser, { viewport: NARROW, locale: lang === 'es' ? 'es-US' : 'en-US' });
      await page.goto(`${base}${manageLink(lang, fixture)}`);
      await page.goto(`${base}/${lang}/verify`);
      const form = page.locator('form[data-channel="email"]');
      await form.locator('input[name="code"]').fill('123456');
      const [response] = await Promise.all([page.waitForNavigation(), form.locator('button[type="submit"]').click()]);
      expect(response?.status()).toBe(429);
      const message = await page.evaluate(() => {
        const field = document.querySelector('[aria-invalid="true"]');
        const ids = (field?.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean);
        return ids.map((id) => document.getElementById(id)).find((el) => el?.classList.contains('error-message'))?.textContent ?? '';
      });
      expect(message).toMatch(wording);
      expect(message).not.toMatch(/\b1 (minutes|minutos)\b/);
      await page.context().close();
    });
  }
});
