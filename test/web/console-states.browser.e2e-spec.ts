/// <reference lib="dom" />
// The functions passed to page.evaluate run in the browser.
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESKTOP, expectNoSeriousAxeViolations, launchBrowser, newPage, NARROW } from '../support/browser.js';
import { ADMIN, startTestApp, type TestApp } from '../support/test-app.js';
import { type ConsoleSeed, inLang, seedConsole } from './console-pages.js';

const BROWSER_TEST_TIMEOUT = 180_000;

/*
 * Console pages in the states the page-by-page suites do not open: a form sent back with a mistake,
 * and the Spanish console where the ledger's codes meet the reader.
 */
describe('#14.3 console pages in their other states, in Chromium', { timeout: BROWSER_TEST_TIMEOUT }, () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let seed: ConsoleSeed;

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestApp({ env: { LOGIN_RATE_LIMIT_PER_MINUTE: '1000' } }), launchBrowser()]);
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    seed = await seedConsole(t);
  }, BROWSER_TEST_TIMEOUT);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function signedIn(lang: string): Promise<Page> {
    const page = await newPage(browser, { viewport: DESKTOP });
    await page.goto(`${base}${inLang('/console/login', lang)}`);
    await page.fill('#field-email', ADMIN.email);
    await page.fill('#field-password', ADMIN.password);
    await page.locator('form[action="/console/login"] button[type="submit"]').click();
    await page.waitForURL(`${base}/console/`);
    return page;
  }

  for (const lang of ['en', 'es']) {
    it(`#14.3 protecting a person with no reason (${lang}) sends the form back with the error announced, focused and tied to the reason field`, async () => {
      const page = await signedIn(lang);
      const search = `/console/people?identifierSystem=A_NUMBER&identifier=${encodeURIComponent(seed.protectedIdentifier)}`;
      await page.goto(`${base}${search}`);
      const section = page.locator('section[data-person-id]').first();
      const personId = (await section.getAttribute('data-person-id'))!;
      const field = `field-reason-${personId}`;
      const [response] = await Promise.all([page.waitForNavigation(), section.locator('button[type="submit"]').click()]);
      expect(response?.status()).toBe(422);

      const state = await page.evaluate((id) => {
        const input = document.getElementById(id);
        const described = (input?.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean);
        return {
          alert: document.querySelector('[role="alert"]')?.textContent?.trim() ?? '',
          summaryLink: document.querySelector<HTMLAnchorElement>('.error-summary a')?.hash,
          focused: document.activeElement?.id,
          invalid: input?.getAttribute('aria-invalid'),
          message: described.map((d) => document.getElementById(d)).find((el) => el?.classList.contains('error-message'))?.textContent,
        };
      }, field);
      expect(state.alert, 'the error summary is announced').not.toBe('');
      expect(state.summaryLink).toBe(`#${field}`);
      expect(state.focused, 'the focus is on the field to fix').toBe(field);
      expect(state.invalid).toBe('true');
      expect(state.message?.trim(), 'the error message is tied to the field').toBeTruthy();
      expect(await page.getAttribute('html', 'lang')).toBe(lang);
      await expectNoSeriousAxeViolations(page);
      await page.setViewportSize(NARROW);
      expect(await page.evaluate(() => document.scrollingElement!.scrollWidth)).toBeLessThanOrEqual(NARROW.width);
      await page.context().close();
    });
  }

  it('#14.3 the Spanish console names channels and delivery states in Spanish on the victim timeline and the report, not as ledger codes', async () => {
    const page = await signedIn('es');
    await page.goto(`${base}${inLang(`/console/victims/${seed.registrationId}`, 'es')}`);
    const timeline = await page.evaluate(() => ({
      contacts: [...document.querySelectorAll('dl dd')].map((dd) => dd.textContent ?? '').join(' | '),
      deliveries: [...document.querySelectorAll('[data-delivery-status]')].map((li) => li.textContent ?? ''),
    }));
    expect(timeline.deliveries.length, 'the seeded alert has deliveries').toBeGreaterThan(0);
    const codes = /\b(email|sms|voice|pending|held|sending|sent|delivered|confirmed|failed|dead|suppressed)\b/;
    expect(timeline.contacts, 'contacts on the timeline').not.toMatch(codes);
    for (const delivery of timeline.deliveries) expect(delivery.split('(')[0], 'a delivery on the timeline').not.toMatch(codes);

    await page.goto(`${base}${inLang(`/console/reports?from=${seed.reportFrom}&to=${seed.reportTo}`, 'es')}`);
    const cells = await page.evaluate(() =>
      [...document.querySelectorAll('td, th, svg text, svg title')].map((c) => c.textContent?.trim() ?? ''),
    );
    expect(
      cells.filter((c) => codes.test(c)),
      'report cells with a ledger code',
    ).toEqual([]);
    await page.context().close();
  });

  it('#14.3 the Spanish console counts one open escalation in the singular in its menu', async () => {
    const page = await signedIn('es');
    await page.goto(`${base}${inLang('/console/', 'es')}`);
    const link = page.locator('a[href="/console/escalations"][data-open-escalations]');
    expect(await link.getAttribute('data-open-escalations'), 'the seed leaves one escalation open').toBe('1');
    expect((await link.locator('.nav-count').textContent())?.trim()).toBe('1 pendiente');
    await page.context().close();
  });

  it('#14.3 the Spanish list of undelivered messages names each channel and purpose in Spanish, not as ledger codes', async () => {
    const page = await signedIn('es');
    await page.goto(`${base}${inLang('/console/deliveries', 'es')}`);
    const rows = await page.evaluate(() =>
      [...document.querySelectorAll('tr[data-delivery-id]')].map((tr) =>
        [...tr.querySelectorAll('td')].slice(0, 2).map((td) => td.textContent?.trim()),
      ),
    );
    expect(rows.length, 'the seed leaves a dead message').toBeGreaterThan(0);
    for (const [channel, purpose] of rows) {
      expect(channel).not.toMatch(/^(email|sms|voice)$/);
      expect(purpose).not.toMatch(/^(alert|verification|staff)$/);
    }
    await page.context().close();
  });
});
