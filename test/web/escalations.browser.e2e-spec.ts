import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { StaffAlertsService } from '../../src/delivery/staff-alerts.service.js';
import { DESKTOP, expectNoSeriousAxeViolations, launchBrowser, newPage, PHONE, saveScreenshot } from '../support/browser.js';
import { newStaff } from '../support/console.js';
import { ManualClock } from '../support/manual-clock.js';
import { bookPerson } from '../support/registrations.js';
import { enrol } from '../support/roster-people.js';
import { createSource, event, personWith, postEvents } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const BROWSER_TEST_TIMEOUT = 90_000;

describe('#14 a specialist resolves an escalation in Chromium', { timeout: BROWSER_TEST_TIMEOUT }, () => {
  const clock = new ManualClock(new Date());
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let specialist: { email: string; password: string };
  let registrationId: string;

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestApp({ clock }), launchBrowser()]);
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    const source = await createSource(t, { name: 'Browser Escalation Feed' });
    specialist = await newStaff(t, 'specialist');
    const token = await t.loginAs(specialist.email, specialist.password);
    const identifier = `BRW-ESC-${Date.now()}`;
    const personId = await bookPerson(t, source, identifier, { firstName: 'Imogen', lastName: 'Waiting' });
    registrationId = await enrol(t, token, personId, 'browser-escalation@example.org');
    const released = await postEvents(
      t,
      source,
      event({ type: 'RELEASED', person: personWith(identifier, { firstName: 'Imogen', lastName: 'Waiting' }) }),
    );
    expect(released.status).toBe(202);
    await t.app.get(DispatcherService).drain();
    clock.advance(31 * 60_000);
    expect(await t.app.get(StaffAlertsService).escalate()).toBe(1);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function signIn(page: Page): Promise<void> {
    await page.goto(`${base}/console/login`);
    await page.fill('#field-email', specialist.email);
    await page.fill('#field-password', specialist.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/console/`);
  }

  it('#14 from the count in the navigation to a resolved escalation, with JavaScript off, the missing note shown at its field', async () => {
    const page = await newPage(browser, { javaScript: false, viewport: DESKTOP });
    await signIn(page);
    await page.getByRole('link', { name: 'Escalations 1 open' }).click();
    await page.waitForURL(`${base}/console/escalations`);
    const item = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Imogen Waiting: Released' }) });
    await expect(item.count()).resolves.toBe(1);
    await item.getByRole('button', { name: 'Acknowledge: I am on it' }).click();
    await expect(page.getByRole('status').textContent()).resolves.toContain('Acknowledged');
    await expect(page.getByRole('listitem').filter({ hasText: 'Imogen Waiting' }).textContent()).resolves.toContain(specialist.email);

    // Resolving without a note: the page again, the error tied to the note's field.
    await page.getByRole('button', { name: 'Resolve' }).click();
    const note = page.getByRole('textbox', { name: 'What was done (required)' });
    await expect(note.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(note.evaluate((el) => el.getAttribute('aria-describedby'))).resolves.toMatch(/error-note-/);
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Write what was done before you resolve.');

    await note.fill('Reached her by phone at 03:20. She knows and is safe tonight.');
    await page.getByRole('button', { name: 'Resolve' }).click();
    await expect(page.getByRole('status').textContent()).resolves.toContain('Resolved');
    await expect(page.getByText('Nothing is waiting.').count()).resolves.toBe(1);
    await expect(page.getByRole('link', { name: 'Escalations', exact: true }).count()).resolves.toBe(1);

    await page.goto(`${base}/console/victims/${registrationId}`);
    await expect(page.locator('[data-escalation-state="resolved"]').textContent()).resolves.toContain('She knows and is safe tonight.');
    await saveScreenshot(page, 'console-escalation-timeline-1280');
    await page.context().close();
  });

  it('#14 the inbox (open, with an error, resolved, in Spanish) has no serious or critical axe violation at 390 and 1280 px', async () => {
    // A second escalation, so the open inbox has a form to check.
    const source = await createSource(t, { name: 'Second Browser Feed' });
    const token = await t.loginAs(specialist.email, specialist.password);
    const identifier = `BRW-ESC2-${Date.now()}`;
    await enrol(
      t,
      token,
      await bookPerson(t, source, identifier, { firstName: 'Jasper', lastName: 'Waiting' }),
      'browser-escalation2@example.org',
    );
    await postEvents(t, source, event({ type: 'RELEASED', person: personWith(identifier, { firstName: 'Jasper', lastName: 'Waiting' }) }));
    await t.app.get(DispatcherService).drain();
    clock.advance(31 * 60_000);
    expect(await t.app.get(StaffAlertsService).escalate()).toBe(1);

    const page = await newPage(browser);
    await signIn(page);
    await page.goto(`${base}/console/escalations`);
    await page.getByRole('button', { name: 'Resolve' }).click();
    await expect(page.getByRole('alert').count()).resolves.toBe(1);
    for (const viewport of [PHONE, DESKTOP]) {
      await page.setViewportSize(viewport);
      await expectNoSeriousAxeViolations(page);
    }
    await page.setViewportSize(PHONE);
    await saveScreenshot(page, 'console-escalations-error-390');
    for (const path of ['/console/escalations', '/console/escalations?status=resolved', '/console/escalations?lang=es']) {
      await page.goto(`${base}${path}`);
      for (const viewport of [PHONE, DESKTOP]) {
        await page.setViewportSize(viewport);
        await expectNoSeriousAxeViolations(page);
      }
    }
    await page.goto(`${base}/console/escalations?lang=en`);
    await page.setViewportSize(DESKTOP);
    await saveScreenshot(page, 'console-escalations-1280');
    await page.context().close();
  });
});
