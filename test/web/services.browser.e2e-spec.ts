import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESKTOP, expectNoSeriousAxeViolations, launchBrowser, newPage, PHONE, saveScreenshot } from '../support/browser.js';
import { newStaff } from '../support/console.js';
import { bookPerson } from '../support/registrations.js';
import { createSource } from '../support/sources.js';
import { ADMIN, startTestApp, type TestApp } from '../support/test-app.js';

const BROWSER_TEST_TIMEOUT = 120_000;

describe('#14 services directory pages in Chromium', { timeout: BROWSER_TEST_TIMEOUT }, () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let serviceId: string;
  let registrationId: string;
  let specialist: { email: string; password: string };

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestApp(), launchBrowser()]);
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    const admin = await t.adminToken();
    const created = await t
      .http()
      .post('/v1/admin/services')
      .set('Authorization', `Bearer ${admin}`)
      .send({
        name: 'Casa Segura',
        kind: 'shelter',
        phone: '1-800-799-7233 ext. 12',
        website: 'https://www.casasegura.example.org/services/emergency-shelter-and-advocacy',
        languages: ['en', 'es'],
        hours: '24 hours, every day',
        description: { en: 'Emergency shelter.', es: 'Refugio de emergencia.' },
      });
    expect(created.status, created.text).toBe(201);
    serviceId = created.body.serviceId as string;
    specialist = await newStaff(t, 'specialist');
    const token = await t.loginAs(specialist.email, specialist.password);
    const personId = await bookPerson(t, await createSource(t), `SRV-${Date.now()}`);
    const enrolled = await t
      .http()
      .post('/v1/enrollments')
      .set('Authorization', `Bearer ${token}`)
      .send({ personId, language: 'es', contacts: [{ channel: 'email', address: 'browser.victim@example.org' }] });
    expect(enrolled.status, enrolled.text).toBe(201);
    registrationId = enrolled.body.registrationId as string;
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function signIn(page: Page, email: string, password: string): Promise<void> {
    await page.goto(`${base}/console/login`);
    await page.fill('#field-email', email);
    await page.fill('#field-password', password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/console/`);
  }

  it('#14 the directory, its form (with its errors) and the share form have no serious axe violation at 390 and 1280 px, in both languages', async () => {
    const page = await newPage(browser);
    await signIn(page, ADMIN.email, ADMIN.password);
    const check = async (name: string) => {
      for (const viewport of [PHONE, DESKTOP]) {
        await page.setViewportSize(viewport);
        await expectNoSeriousAxeViolations(page);
      }
      await saveScreenshot(page, name);
    };
    for (const lang of ['en', 'es']) {
      await page.goto(`${base}/console/services?lang=${lang}`);
      await check(`console-services-${lang}`);
      await page.goto(`${base}/console/services/${serviceId}/edit`);
      await check(`console-service-edit-${lang}`);
    }
    await page.goto(`${base}/console/victims/${registrationId}?lang=en`);
    await check('console-timeline-share');
    await page.goto(`${base}/console/services/new`);
    await page.fill('#field-name', 'Broken');
    await page.fill('#field-website', 'javascript:alert(1)');
    await page.getByRole('button', { name: 'Add service' }).click();
    await expect(page.locator('#field-website').getAttribute('aria-invalid')).resolves.toBe('true');
    await check('console-service-errors');
    await page.context().close();
  });

  it('#14 with JavaScript off a specialist shares a service from the timeline and sees the notice', async () => {
    const page = await newPage(browser, { javaScript: false, viewport: DESKTOP });
    await signIn(page, specialist.email, specialist.password);
    await page.getByRole('link', { name: 'Services' }).click();
    await expect(page.getByRole('heading', { name: 'Casa Segura' }).count()).resolves.toBe(1);
    await page.goto(`${base}/console/victims/${registrationId}`);
    await page.getByLabel('Service', { exact: true }).selectOption(serviceId);
    await page.getByRole('button', { name: 'Send to the victim' }).click();
    await expect(page.getByRole('status').textContent()).resolves.toContain('Casa Segura is on its way to 1 contact');
    await saveScreenshot(page, 'console-share-service');
    await page.context().close();
  });
});
