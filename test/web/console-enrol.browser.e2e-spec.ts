import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESKTOP, expectNoSeriousAxeViolations, launchBrowser, newPage, PHONE, saveScreenshot, tabTo } from '../support/browser.js';
import { newStaff } from '../support/console.js';
import { bookPerson } from '../support/registrations.js';
import { createSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const BROWSER_TEST_TIMEOUT = 90_000;

describe('#14 enrolment in Chromium, by keyboard', { timeout: BROWSER_TEST_TIMEOUT }, () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let staff: { email: string; password: string };
  let personId: string;

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestApp(), launchBrowser()]);
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    const source = await createSource(t);
    personId = await bookPerson(t, source, 'A-750-000-001', { firstName: 'Teclado', lastName: 'Navegante' });
    staff = await newStaff(t, 'specialist');
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function signIn(page: Page): Promise<void> {
    await page.goto(`${base}/console/login`);
    await page.fill('#field-email', staff.email);
    await page.fill('#field-password', staff.password);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/console/`);
  }

  it('#14 a specialist searches, fills the form with the keyboard (a mistake first, shown at its field), enrols, and stops at the victim’s request', async () => {
    const page = await newPage(browser, { viewport: DESKTOP });
    await signIn(page);
    await tabTo(page, 'a[href="/console/enrol"]');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/console/enrol`);
    await tabTo(page, '#field-identifier');
    await page.keyboard.type('A-750-000-001');
    await page.keyboard.press('Enter');
    await page.waitForURL(/identifier=A-750-000-001/);
    await expectNoSeriousAxeViolations(page);
    await tabTo(page, `a[href="/console/enrol/${personId}"]`);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/console/enrol/${personId}`);
    await expectNoSeriousAxeViolations(page);

    await tabTo(page, '#field-registrantName');
    await page.keyboard.type('Lucía Teclado');
    await tabTo(page, '#field-language');
    // Arrow keys move within a radio group and choose.
    await page.keyboard.press('ArrowDown');
    await tabTo(page, '#field-phone');
    await page.keyboard.type('(713) 555-0142');
    await tabTo(page, '#field-sms');
    await page.keyboard.press('Space');
    await tabTo(page, '#field-voice');
    await page.keyboard.press('Space');
    await tabTo(page, 'form.signup-form button[type="submit"]');
    const refused = page.waitForResponse((res) => res.request().method() === 'POST');
    await page.keyboard.press('Enter');
    await expect(refused.then((res) => res.status())).resolves.toBe(422);
    await page.waitForSelector('.error-summary');
    // No PIN with calls: the form again, the mistake summarised and tied to its field, focus on it.
    await expect(page.locator('.error-summary a[href="#field-pin"]').count()).resolves.toBe(1);
    await expect(page.locator('#field-pin').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('field-pin');
    await expect(page.locator('#field-registrantName').inputValue()).resolves.toBe('Lucía Teclado');
    await expect(page.locator('#field-language-es').isChecked()).resolves.toBe(true);
    await expectNoSeriousAxeViolations(page);
    await saveScreenshot(page, 'console-enrol-error-1280');

    await page.keyboard.type('2468');
    await tabTo(page, '#field-sendConfirmation');
    await expect(page.locator('#field-sendConfirmation').isChecked()).resolves.toBe(true);
    await tabTo(page, 'form.signup-form button[type="submit"]');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/console\/victims\/[0-9a-f-]{36}$/);
    await expect(page.getByRole('status').first().textContent()).resolves.toContain(
      'A confirmation is on its way to: Text message, Phone call.',
    );
    await expectNoSeriousAxeViolations(page);

    await tabTo(page, 'a[href$="/stop"]');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/stop$/);
    await expectNoSeriousAxeViolations(page);
    await tabTo(page, '#field-reason');
    await page.keyboard.type('Victim asked in person');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/console\/victims\/[0-9a-f-]{36}$/);
    await expect(page.locator('[data-stopped="true"]').textContent()).resolves.toContain(staff.email);
    await page.context().close();
  });

  it('#14 the enrolment pages have no serious or critical axe violation at 390 px, in Spanish too', async () => {
    const page = await newPage(browser, { viewport: PHONE });
    await signIn(page);
    for (const path of ['/console/enrol?lang=es', '/console/enrol?lastName=Navegante&firstName=Teclado', `/console/enrol/${personId}`]) {
      await page.goto(`${base}${path}`);
      await expectNoSeriousAxeViolations(page);
    }
    await saveScreenshot(page, 'console-enrol-es-390');
    await page.context().close();
  });
});
