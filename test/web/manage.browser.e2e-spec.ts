import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { DESKTOP, expectNoSeriousAxeViolations, launchBrowser, newPage, PHONE, saveScreenshot } from '../support/browser.js';
import { bookPerson } from '../support/registrations.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

// A browser launch and an axe run each take seconds on a loaded machine.
const BROWSER_TEST_TIMEOUT = 90_000;

describe('#13 manage pages in Chromium', { timeout: BROWSER_TEST_TIMEOUT }, () => {
  let t: TestApp;
  let browser: Browser;
  let source: TestSource;
  let specialist: string;
  let base: string;

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestApp(), launchBrowser()]);
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    source = await createSource(t);
    specialist = await t.staffToken('specialist');
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /**
   * A victim enrolled for a newly booked person, who is then released: the manage link from the real
   * alert email, as a path on this app (the email names PUBLIC_BASE_URL's host).
   */
  async function releaseAlertLink(identifier: string): Promise<{ link: string; registrationId: string }> {
    const person = { firstName: 'Lucia', lastName: 'Herrera' };
    const personId = await bookPerson(t, source, identifier, person);
    const email = `victim-${randomBytes(4).toString('hex')}@example.org`;
    const enrolled = await t
      .http()
      .post('/v1/enrollments')
      .set('Authorization', `Bearer ${specialist}`)
      .send({ personId, language: 'en', contacts: [{ channel: 'email', address: email }] });
    expect(enrolled.status, enrolled.text).toBe(201);
    const released = await postEvents(t, source, event({ type: 'RELEASED', person: personWith(identifier, person) }));
    expect(released.status, released.text).toBe(202);
    await t.app.get(DispatcherService).drain();
    const outbox = await t
      .http()
      .get('/dev/outbox')
      .set('Authorization', `Bearer ${await t.adminToken()}`);
    const mail = (outbox.body.messages as { to: string; channel: string; body: string }[]).find(
      (m) => m.to === email && m.channel === 'email',
    );
    const link = /https?:\/\/\S+\/en\/manage\?token=\S+/.exec(mail!.body)![0];
    const url = new URL(link);
    return { link: `${base}${url.pathname}${url.search}`, registrationId: enrolled.body.registrationId as string };
  }

  /** The page as it is now at a phone's and a laptop's width. */
  async function screenshots(page: Page, name: string): Promise<void> {
    for (const [size, viewport] of [
      ['390', PHONE],
      ['1280', DESKTOP],
    ] as const) {
      await page.setViewportSize(viewport);
      await saveScreenshot(page, `${name}-${size}`);
    }
  }

  it('#13 with JavaScript off: the alert’s manage link shows the alert, and all alerts stop through the confirmation', async () => {
    const { link, registrationId } = await releaseAlertLink('A-732-000-001');
    const page = await newPage(browser, { javaScript: false });
    const opened = await page.goto(link);
    expect(opened!.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/en/manage');
    expect(page.url()).not.toContain('token');
    const alert = page.locator('[data-event-type="RELEASED"]');
    await expect(alert.count()).resolves.toBe(1);
    await expect(alert.locator('h3').textContent()).resolves.toBe('Released');
    await expect(alert.locator('[data-channel="email"] strong').textContent()).resolves.toBe('sent');
    await screenshots(page, 'manage');

    await page.getByRole('link', { name: 'Stop all alerts' }).click();
    expect(new URL(page.url()).pathname).toBe('/en/manage/stop');
    await expect(page.locator('h1').textContent()).resolves.toBe('Stop all alerts?');
    await screenshots(page, 'manage-stop');
    // The way back keeps everything.
    await page.getByRole('link', { name: 'No, keep my alerts' }).click();
    expect(new URL(page.url()).pathname).toBe('/en/manage');
    await page.getByRole('link', { name: 'Stop all alerts' }).click();

    await page.getByRole('button', { name: 'Yes, stop all alerts' }).click();
    await expect(page.locator('h1').textContent()).resolves.toBe('Your alerts are stopped');
    await screenshots(page, 'manage-stopped');
    const { rows } = await t.db.query(`SELECT status FROM registration WHERE id = $1`, [registrationId]);
    expect(rows[0].status).toBe('stopped');
    // The session is gone with the registration.
    const after = await page.goto(`${base}/en/manage`);
    expect(after!.status()).toBe(401);
    await page.context().close();
  });

  it('#13 every manage page has no serious or critical axe violation at 390 and 1280 px; the form with mistakes and the message pages too', async () => {
    const { link } = await releaseAlertLink('A-732-000-002');
    const page = await newPage(browser);
    await page.goto(link);
    const check = async (name: string) => {
      for (const viewport of [PHONE, DESKTOP]) {
        await page.setViewportSize(viewport);
        await expectNoSeriousAxeViolations(page);
      }
      if (name) await screenshots(page, name);
    };
    await check('');
    await page.fill('#field-quietStart', '25:00');
    await page.getByRole('button', { name: 'Save' }).nth(2).click();
    await expect(page.locator('#error-quietStart').count()).resolves.toBe(1);
    await check('manage-errors');
    await page.goto(`${base}/es/manage`);
    await check('manage-es');
    await page.goto(`${base}/en/manage/stop`);
    await check('');
    await page.context().close();

    const stranger = await newPage(browser);
    const noSession = await stranger.goto(`${base}/en/manage`);
    expect(noSession!.status()).toBe(401);
    for (const viewport of [PHONE, DESKTOP]) {
      await stranger.setViewportSize(viewport);
      await expectNoSeriousAxeViolations(stranger);
    }
    await screenshots(stranger, 'manage-no-session');
    const badLink = await stranger.goto(`${base}/en/manage?token=vmt_${randomBytes(32).toString('base64url')}`);
    expect(badLink!.status()).toBe(404);
    await expectNoSeriousAxeViolations(stranger);
    await screenshots(stranger, 'manage-bad-link');
    await stranger.context().close();
  });
});
