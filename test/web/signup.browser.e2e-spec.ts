import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESKTOP, expectNoSeriousAxeViolations, launchBrowser, newPage, PHONE, saveScreenshot, tabTo } from '../support/browser.js';
import { FieldCipher } from '../../src/common/crypto/field-cipher.js';
import { bookPerson, enrolEveryChannel, latestCode } from '../support/registrations.js';
import { createSource, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

// A browser launch and each page load take seconds on a loaded machine.
const BROWSER_TEST_TIMEOUT = 90_000;

/** The page as it is now, at the phone and the laptop width, back at the width it had. */
async function screenshots(page: Page, name: string): Promise<void> {
  const before = page.viewportSize();
  for (const [label, size] of [
    ['390', PHONE],
    ['1280', DESKTOP],
  ] as const) {
    await page.setViewportSize({ ...size });
    await saveScreenshot(page, `${name}-${label}`);
  }
  if (before) await page.setViewportSize(before);
}

/** The contact ids of the verify forms on the page, by channel. */
async function verifyForms(page: Page): Promise<Record<string, string>> {
  const forms = page.locator('form[data-channel]');
  const found: Record<string, string> = {};
  for (let i = 0; i < (await forms.count()); i++) {
    const form = forms.nth(i);
    found[(await form.getAttribute('data-channel'))!] = (await form.locator('input[name="contactId"]').getAttribute('value'))!;
  }
  return found;
}

/**
 * Does `act` (a click or a key) and waits until the page it leads to has loaded. Waiting for the URL
 * is not enough where a form posts back to the page it is on (verify → 303 → verify).
 */
async function andLoaded(page: Page, path: string, act: () => Promise<void>): Promise<void> {
  const arrived = page.waitForResponse((res) => new URL(res.url()).pathname === path && res.request().method() === 'GET');
  await act();
  await arrived;
  await page.waitForLoadState('load');
}

describe('#13 sign-up in a real browser (chromium, JavaScript off)', { timeout: BROWSER_TEST_TIMEOUT }, () => {
  let t: TestApp;
  let source: TestSource;
  let browser: Browser;
  let base: string;
  let personId: string;

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestApp(), launchBrowser()]);
    source = await createSource(t);
    personId = await bookPerson(t, source, 'A-246-810-120', { firstName: 'Bruno', lastName: 'Salcedo' });
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('#13 search → results → sign up in Spanish with email and SMS → both codes verified → confirmation', async () => {
    const page = await newPage(browser, { javaScript: false, locale: 'es-US', viewport: PHONE });
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/es/');
    await page.selectOption('#field-identifierSystem', 'A_NUMBER');
    await page.fill('#field-identifier', 'A 246 810 120');
    await page.getByRole('button', { name: 'Buscar' }).click();
    await page.waitForURL(/\/es\/search\?/);
    await expect(page.locator('.result h2').textContent()).resolves.toBe('Bruno Salcedo');

    await page.locator('.result a.button').click();
    await page.waitForURL(`${base}/es/people/${personId}/register`);
    expect(await page.title()).not.toContain('Salcedo');
    await expect(page.locator('main').textContent()).resolves.toContain('Bruno Salcedo');
    await screenshots(page, 'signup-register');

    // A mistake first: the page comes back with it next to its field, the email kept.
    await page.getByLabel('Correo electrónico').fill('bruno.hermana@example.org');
    await page.getByLabel('Número de teléfono').fill('713 555 01');
    await page.getByLabel('Mensajes de texto (SMS) a este teléfono').check();
    await page.getByRole('button', { name: 'Inscribirse' }).click();
    await expect(page.locator('#error-phone').textContent()).resolves.toMatch(/Escriba un número de EE\. UU\./);
    await expect(page.locator('#field-email').inputValue()).resolves.toBe('bruno.hermana@example.org');
    await screenshots(page, 'signup-register-errors');

    await page.getByLabel('Número de teléfono').fill('(713) 555-0190');
    await page.getByLabel('Puesta en libertad', { exact: true }).check();
    await page.getByLabel('Fuga', { exact: true }).check();
    await page.getByLabel('Silencio desde').fill('22:00');
    await page.getByLabel('Silencio hasta').fill('06:30');
    await page.selectOption('#field-timeZone', 'America/Los_Angeles');
    await page.getByRole('button', { name: 'Inscribirse' }).click();
    await page.waitForURL(`${base}/es/verify`);
    await screenshots(page, 'signup-verify');

    const contacts = await verifyForms(page);
    expect(Object.keys(contacts).sort()).toEqual(['email', 'sms']);
    for (const channel of ['email', 'sms']) {
      const form = page.locator(`form[data-channel="${channel}"]`);
      await form.locator('input[name="code"]').fill(await latestCode(t, contacts[channel]));
      await andLoaded(page, '/es/verify', () => form.getByRole('button', { name: 'Comprobar el código' }).click());
    }

    await expect(page.locator('h1').textContent()).resolves.toBe('Ya está inscrito');
    const main = (await page.locator('main').textContent())!;
    expect(main).toContain('Vigil le avisará sobre Bruno Salcedo');
    expect(main).toContain('Puesta en libertad');
    expect(main).toContain('De 22:00 a 06:30 (Pacífico (Los Ángeles))');
    expect(main).toContain('responda STOP');
    expect(main).toContain('en español');
    expect(page.url()).toBe(`${base}/es/verify`);
    await screenshots(page, 'signup-confirmed');
    await page.context().close();
  });

  it('#13 keyboard only (Tab, Space, Enter): the quick exit is the first stop, then sign up and verify', async () => {
    const page = await newPage(browser, { javaScript: false, viewport: PHONE });
    await page.goto(`${base}/en/people/${personId}/register`);
    await page.keyboard.press('Tab');
    await expect(page.locator(':focus').getAttribute('id')).resolves.toBe('quick-exit');

    await tabTo(page, '#field-email');
    await page.keyboard.type('keys.only@example.org');
    await tabTo(page, '#field-phone');
    await page.keyboard.type('7135550199');
    await tabTo(page, '#field-sms');
    await page.keyboard.press('Space');
    await tabTo(page, 'button[type="submit"]');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/en/verify`);

    const contacts = await verifyForms(page);
    for (const channel of ['email', 'sms']) {
      await tabTo(page, `#field-code-${contacts[channel]}`);
      await page.keyboard.type(await latestCode(t, contacts[channel]));
      await andLoaded(page, '/en/verify', () => page.keyboard.press('Enter'));
    }
    await expect(page.locator('h1').textContent()).resolves.toBe('You are signed up');
    await page.context().close();
  });

  it('#13 axe finds no serious or critical violation on the sign-up pages at 390 and 1280 px (JavaScript on, as axe needs)', async () => {
    const page = await newPage(browser, { viewport: PHONE });
    const check = async (what: string) => {
      for (const size of [PHONE, DESKTOP]) {
        await page.setViewportSize({ ...size });
        await expectNoSeriousAxeViolations(page).catch((error: Error) => {
          throw new Error(`${what} at ${size.width} px: ${error.message}`);
        });
      }
    };
    await page.goto(`${base}/en/verify`);
    await check('verify without a session');
    await page.goto(`${base}/en/people/${personId}/register`);
    await check('register');
    await page.getByLabel('Phone number').fill('12');
    await page.getByLabel('Phone calls to this phone').check();
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.locator('#error-phone').waitFor();
    await check('register with mistakes');
    await page.getByLabel('Email address').fill('axe.check@example.org');
    await page.getByLabel('Phone number').fill('713 555 0107');
    await page.getByLabel('PIN for phone calls').fill('1357');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.waitForURL(`${base}/en/verify`);
    await check('verify');
    const contacts = await verifyForms(page);
    const form = page.locator('form[data-channel="email"]');
    await form.locator('input[name="code"]').fill('000000');
    await form.getByRole('button', { name: 'Check the code' }).click();
    await page.locator(`#error-code-${contacts.email}`).waitFor();
    await check('verify with a wrong code');
    await saveScreenshot(page, 'signup-verify-wrong-code-1280');
    await form.locator('input[name="code"]').fill(await latestCode(t, contacts.email));
    await form.getByRole('button', { name: 'Check the code' }).click();
    await page.locator('.verified').waitFor();
    await check('verify with the email checked and a call pending');
    // Verified contacts only (a specialist's enrolment): the confirmation, with calls.
    const enrolled = await enrolEveryChannel(t, await t.staffToken('specialist'), personId, {
      email: 'axe.enrolled@example.org',
      sms: '+17135550108',
      voice: '+17135550109',
    });
    const sealed = t.app.get(FieldCipher).encrypt(JSON.stringify(enrolled), 'web.session', 'victim');
    await page.context().addCookies([{ name: 'vigil_session', value: sealed, url: base }]);
    await page.goto(`${base}/en/verify`);
    await expect(page.locator('h1').textContent()).resolves.toBe('You are signed up');
    await check('confirmation');
    await screenshots(page, 'signup-confirmed-calls');
    await page.context().close();
  });

  it('#13 the verify page without a session, as a browser sees it', async () => {
    const page = await newPage(browser, { javaScript: false, viewport: PHONE });
    const res = await page.goto(`${base}/en/verify`);
    expect(res?.status()).toBe(401);
    await screenshots(page, 'signup-verify-start');
    await page.context().close();
  });
});
