import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESKTOP, expectNoSeriousAxeViolations, launchBrowser, NARROW, newPage, PHONE, saveScreenshot, tabTo } from '../support/browser.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

// A browser launch and an axe run each take seconds on a loaded machine; the global limit stays tight.
const BROWSER_TEST_TIMEOUT = 60_000;

// The policy Vigil's pages send, so the harness is proven against what it will meet.
const STRICT_CSP = "default-src 'self'";

function staticPage(body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Harness</title></head><body><main><h1>Harness</h1>${body}</main></body></html>`;
}

const PAGES: Record<string, string> = {
  '/broken': staticPage('<img src="/pixel.svg">'),
  '/fixed': staticPage('<img src="/pixel.svg" alt="A grey square"><p><a href="#one">One</a> <a href="#two" id="two">Two</a></p>'),
  '/inline-script': staticPage('<p id="marker">untouched</p><script>document.getElementById("marker").textContent = "ran"</script>'),
};
const PIXEL = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="#888"/></svg>';

describe('#13 browser test harness', { timeout: BROWSER_TEST_TIMEOUT }, () => {
  let app: TestApp;
  let browser: Browser;
  let server: Server;
  let staticBase: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/pixel.svg') {
        res.writeHead(200, { 'content-type': 'image/svg+xml', 'content-security-policy': STRICT_CSP });
        res.end(PIXEL);
        return;
      }
      const html = PAGES[req.url ?? ''];
      res.writeHead(html ? 200 : 404, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': STRICT_CSP });
      res.end(html ?? 'not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    staticBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    [app, browser] = await Promise.all([startTestApp(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('#13 Debian chromium opens the app’s own Swagger UI with JavaScript on', async () => {
    const page = await newPage(browser, { viewport: DESKTOP });
    const address = app.app.getHttpServer().address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${address.port}/docs`);
    expect(await page.title()).toMatch(/swagger/i);
    // The UI is drawn by script, so this proves JavaScript ran, not only that HTML arrived.
    await expect(page.locator('.swagger-ui .info .title').first().textContent({ timeout: 20_000 })).resolves.toMatch(/vigil/i);
    expect(browser.version()).toMatch(/^\d+\./);
    await page.context().close();
  });

  it('#13 the strict CSP the pages send blocks inline scripts, so the harness must not rely on them', async () => {
    const page = await newPage(browser);
    await page.goto(`${staticBase}/inline-script`);
    expect(await page.locator('#marker').textContent()).toBe('untouched');
    await page.context().close();
  });

  it('#13 axe under a strict CSP names a serious violation (image-alt) and passes the fixed page', async () => {
    const page = await newPage(browser, { viewport: PHONE });
    await page.goto(`${staticBase}/broken`);
    const failure = await expectNoSeriousAxeViolations(page).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure?.message).toMatch(/image-alt \(critical\): .+ at img/);

    await page.goto(`${staticBase}/fixed`);
    const results = await expectNoSeriousAxeViolations(page);
    // It really ran: the image it failed before now passes its rule.
    expect(results.passes.map((rule) => rule.id)).toContain('image-alt');
    await page.context().close();
  });

  it('#13 axe refuses a page with JavaScript off instead of hanging', async () => {
    const page = await newPage(browser, { javaScript: false });
    await page.goto(`${staticBase}/fixed`);
    await expect(expectNoSeriousAxeViolations(page)).rejects.toThrow(/JavaScript on/);
    await page.context().close();
  });

  it('#13 keyboard-only: Tab reaches a link in order with JavaScript off, and gives up on one that is not there', async () => {
    const page = await newPage(browser, { viewport: NARROW, javaScript: false });
    await page.goto(`${staticBase}/fixed`);
    expect(await tabTo(page, '#two')).toBe(2);
    await expect(tabTo(page, '#absent', 3)).rejects.toThrow(/#absent did not take focus within 3 presses/);
    await page.context().close();
  });

  it('#13 saves a full-page PNG screenshot as a test artifact', async () => {
    const page = await newPage(browser, { viewport: NARROW });
    await page.goto(`${staticBase}/fixed`);
    const path = await saveScreenshot(page, 'harness-fixed-320');
    expect(path).toMatch(/test-results\/screenshots\/harness-fixed-320\.png$/);
    const png = readFileSync(path);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // The IHDR width: the narrow viewport at device scale 1.
    expect(png.readUInt32BE(16)).toBe(NARROW.width);
    await expect(saveScreenshot(page, '../escape')).rejects.toThrow(/plain file name/);
    await page.context().close();
  });
});
