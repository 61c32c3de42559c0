/// <reference lib="dom" />
// The functions passed to page.evaluate run in the browser.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newPage, PHONE } from '../support/browser.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { createPageFixture, manageLink, type PageFixture, VICTIM_PAGES } from './victim-pages.js';

/*
 * The quick exit, end to end: a throwaway local site stands in for QUICK_EXIT_URL (no internet
 * here). Without script the link alone must leave; with script, clicking it or pressing Escape
 * must leave by replacing the history entry, so Back cannot bring the Vigil page up again.
 */
describe('#13 quick exit', { timeout: 60_000 }, () => {
  let t: TestApp;
  let browser: Browser;
  let exitServer: Server;
  let exitBase: string;
  let exitUrl: string;
  let base: string;
  let fixture: PageFixture;
  const visits: { url: string; headers: IncomingHttpHeaders }[] = [];

  beforeAll(async () => {
    exitServer = createServer((req, res) => {
      visits.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html lang="en"><head><title>Weather</title></head><body><h1>Weather ${req.url}</h1></body></html>`);
    });
    await new Promise<void>((resolve) => exitServer.listen(0, '127.0.0.1', resolve));
    exitBase = `http://127.0.0.1:${(exitServer.address() as AddressInfo).port}`;
    exitUrl = `${exitBase}/forecast`;
    [t, browser] = await Promise.all([
      startTestApp({ env: { QUICK_EXIT_URL: exitUrl, PUBLIC_RATE_LIMIT_PER_MINUTE: '100000' } }),
      launchBrowser(),
    ]);
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    fixture = await createPageFixture(t);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await new Promise((resolve) => exitServer?.close(resolve));
  });

  /** A neutral page first, then the Vigil page: the history a victim's browser would have. */
  async function openAfterNeutralPage(javaScript: boolean, path = '/en/help'): Promise<Page> {
    const page = await newPage(browser, { viewport: PHONE, javaScript });
    await page.goto(`${exitBase}/before`);
    await page.goto(`${base}${path}`);
    expect(page.url()).toBe(`${base}${path}`);
    return page;
  }

  const historyLength = (page: Page) => page.evaluate(() => history.length);

  it('#13 with JavaScript off the quick exit is a plain link to QUICK_EXIT_URL that leaves without a referrer, on every page', async () => {
    for (const victimPage of VICTIM_PAGES) {
      const page = await newPage(browser, { viewport: PHONE, javaScript: false });
      if (victimPage.session) await page.goto(`${base}${manageLink('en', fixture)}`);
      await page.goto(`${base}/en/${victimPage.path(fixture)}`);
      expect(await page.locator('#quick-exit').getAttribute('href'), victimPage.name).toBe(exitUrl);
      visits.length = 0;
      await Promise.all([page.waitForURL(exitUrl), page.locator('#quick-exit').click()]);
      const landed = visits.filter((visit) => visit.url === '/forecast');
      expect(landed).toHaveLength(1);
      expect(landed[0].headers.referer, 'the neutral site learns nothing of Vigil').toBeUndefined();
      await page.context().close();
    }
  });

  it('#13 with JavaScript on a plain link adds a history entry (so the checks below can tell)', async () => {
    const page = await openAfterNeutralPage(true);
    const before = await historyLength(page);
    await Promise.all([page.waitForURL(`${base}/en/`), page.locator('header a.site-name').click()]);
    expect(await historyLength(page)).toBe(before + 1);
    await page.goBack();
    expect(new URL(page.url()).pathname).toBe('/en/help');
    await page.context().close();
  });

  for (const how of ['click', 'Escape'] as const) {
    it(`#13 with JavaScript on, ${how === 'click' ? 'clicking the quick exit' : 'pressing Escape'} leaves by location.replace: the Vigil page is not in the history`, async () => {
      const page = await openAfterNeutralPage(true, '/es/search?identifierSystem=A_NUMBER&identifier=A-555-010-020');
      const before = await historyLength(page);
      if (how === 'click') await Promise.all([page.waitForURL(exitUrl), page.locator('#quick-exit').click()]);
      else await Promise.all([page.waitForURL(exitUrl), page.keyboard.press('Escape')]);
      expect(await historyLength(page)).toBe(before);
      await page.goBack();
      expect(page.url()).toBe(`${exitBase}/before`);
      // Forward again lands on the neutral site, never on the search the victim made.
      await page.goForward();
      expect(page.url()).toBe(exitUrl);
      await page.context().close();
    });
  }
});
