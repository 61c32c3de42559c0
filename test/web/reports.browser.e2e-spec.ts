import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESKTOP, expectNoSeriousAxeViolations, launchBrowser, newPage, PHONE, saveScreenshot } from '../support/browser.js';
import { bookPerson } from '../support/registrations.js';
import { enrol } from '../support/roster-people.js';
import { createSource, event, postEvents } from '../support/sources.js';
import { ADMIN, startTestApp, type TestApp } from '../support/test-app.js';

const BROWSER_TEST_TIMEOUT = 90_000;
const day = (date: Date) => date.toISOString().slice(0, 10);

describe('#14 program report page in Chromium', { timeout: BROWSER_TEST_TIMEOUT }, () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  const from = day(new Date());
  const to = day(new Date(Date.now() + 86_400_000));

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestApp(), launchBrowser()]);
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    const source = await createSource(t, { name: 'Browser Feed' });
    const specialist = await t.staffToken('specialist');
    // Twelve bookings (shown exactly) and two enrolments (shown as "<11").
    expect((await postEvents(t, source, { events: Array.from({ length: 10 }, () => event()) })).status).toBe(202);
    for (const i of [1, 2]) await enrol(t, specialist, await bookPerson(t, source, `BRW-${i}-${Date.now()}`), `browser${i}@example.org`);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function signIn(page: Page): Promise<void> {
    await page.goto(`${base}/console/login`);
    await page.fill('#field-email', ADMIN.email);
    await page.fill('#field-password', ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/console/`);
  }

  it('#14 with JavaScript off the charts are images with a name, their numbers in tables, the period form works', async () => {
    const page = await newPage(browser, { javaScript: false, viewport: DESKTOP });
    await signIn(page);
    await page.getByRole('link', { name: 'Program report' }).click();
    await page.fill('#field-from', from);
    await page.fill('#field-to', to);
    await page.getByRole('button', { name: 'Show report' }).click();
    expect(new URL(page.url()).search).toBe(`?from=${from}&to=${to}`);
    const chart = page.getByRole('img', { name: /Bar chart: Custody events by source and type/ });
    await expect(chart.count()).resolves.toBe(1);
    await expect(chart.locator('text').allTextContents()).resolves.toEqual(['Browser Feed · BOOKED', '12']);
    const row = page.getByRole('row', { name: /Enrolled by a specialist/ }).first();
    await expect(row.textContent()).resolves.toContain('<11');
    await expect(page.getByRole('link', { name: 'CSV (spreadsheet)' }).getAttribute('href')).resolves.toBe(
      `/console/reports?from=${from}&to=${to}&format=csv`,
    );
    await saveScreenshot(page, 'console-reports-1280');
    await page.context().close();
  });

  it('#14 the report page and its period errors have no serious or critical axe violation at 390 and 1280 px', async () => {
    const page = await newPage(browser);
    await signIn(page);
    for (const path of [`/console/reports?from=${from}&to=${to}`, `/console/reports?from=${to}&to=${from}`, '/console/reports?lang=es']) {
      await page.goto(`${base}${path}`);
      for (const viewport of [PHONE, DESKTOP]) {
        await page.setViewportSize(viewport);
        await expectNoSeriousAxeViolations(page);
      }
    }
    await page.setViewportSize(PHONE);
    await page.goto(`${base}/console/reports?from=${from}&to=${to}`);
    await saveScreenshot(page, 'console-reports-390');
    await page.context().close();
  });
});
