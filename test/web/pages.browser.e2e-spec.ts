/// <reference lib="dom" />
// The functions passed to page.evaluate run in the browser.
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lang } from '../../src/i18n/messages.js';
import { DESKTOP, expectNoSeriousAxeViolations, launchBrowser, NARROW, newPage, PHONE, saveScreenshot } from '../support/browser.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { createPageFixture, manageLink, PAGE_LANGS, type PageFixture, VICTIM_PAGES, type VictimPage } from './victim-pages.js';

/*
 * The qualities every victim page must have, checked in a real browser over the list in
 * victim-pages.ts: no serious axe violation at phone and desktop widths, nothing scrolling sideways
 * at the narrowest width with the quick exit in view, the quick exit as the first Tab stop, a
 * visible focus on every Tab stop, a name for every control, every error tied to its field, and a
 * language switch that stays on the page.
 */
describe('#13 victim pages in a real browser', { timeout: 60_000 }, () => {
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

  /** The page in a fresh context (own cookies), with the victim's session first where the page needs one. */
  async function open(victimPage: VictimPage, lang: Lang, viewport = PHONE): Promise<{ page: Page; status: number }> {
    const page = await newPage(browser, { viewport, locale: lang === 'es' ? 'es-US' : 'en-US' });
    if (victimPage.session) {
      const linked = await page.goto(`${base}${manageLink(lang, fixture)}`);
      expect(linked?.status(), 'the manage link opens the session').toBe(200);
    }
    const response = await page.goto(`${base}/${lang}/${victimPage.path(fixture)}`);
    return { page, status: response!.status() };
  }

  for (const victimPage of VICTIM_PAGES) {
    for (const lang of PAGE_LANGS) {
      const label = `${victimPage.name} (${lang})`;

      it(`#13 ${label}: no serious axe violation at ${PHONE.width} and ${DESKTOP.width} px; at ${NARROW.width} px nothing scrolls sideways and the quick exit is in view`, async () => {
        const { page } = await open(victimPage, lang);
        for (const viewport of [PHONE, DESKTOP]) {
          await page.setViewportSize(viewport);
          await expectNoSeriousAxeViolations(page);
          // From the top, as the page opens, even where an autofocused field scrolled it down.
          await page.evaluate(() => window.scrollTo(0, 0));
          await saveScreenshot(page, `${victimPage.name}-${lang}-${viewport.width}`);
        }
        await page.setViewportSize(NARROW);
        const widths = await page.evaluate(() => ({
          scroll: document.documentElement.scrollWidth,
          client: document.documentElement.clientWidth,
        }));
        expect(widths.scroll, `${label} scrolls sideways at ${NARROW.width} px`).toBeLessThanOrEqual(widths.client);
        for (const where of ['top', 'bottom'] as const) {
          await page.evaluate((to) => window.scrollTo(0, to === 'top' ? 0 : document.documentElement.scrollHeight), where);
          await expect(page.locator('#quick-exit').isVisible()).resolves.toBe(true);
          const box = (await page.locator('#quick-exit').boundingBox())!;
          expect(box.y, `quick exit in view at the ${where}`).toBeGreaterThanOrEqual(0);
          expect(box.y + box.height, `quick exit in view at the ${where}`).toBeLessThanOrEqual(NARROW.height);
          expect(box.x + box.width, `quick exit in view at the ${where}`).toBeLessThanOrEqual(NARROW.width);
        }
        await page.context().close();
      });

      it(`#13 ${label}: the quick exit is the first Tab stop, every Tab stop shows its focus, every control has a name and every invalid one its error`, async () => {
        const { page } = await open(victimPage, lang);
        expect(await firstTabStop(page)).toBe('quick-exit');
        expect(await tabStopsWithoutVisibleFocus(page), 'Tab stops with no visible focus').toEqual([]);
        expect(await tabStopsUnderQuickExit(page), 'Tab stops hidden under the quick exit (Shift+Tab)').toEqual([]);

        expect(await unnamedControls(page), 'controls with no accessible name').toEqual([]);
        expect(await untiedErrors(page), 'errors not tied to their fields').toEqual([]);
        await page.context().close();
      });

      it(`#13 ${label}: the language switch opens the same page in the other language`, async () => {
        const { page, status } = await open(victimPage, lang);
        const other: Lang = lang === 'en' ? 'es' : 'en';
        const before = new URL(page.url());
        const [response] = await Promise.all([page.waitForNavigation(), page.locator(`header nav a[hreflang="${other}"]`).click()]);
        const after = new URL(page.url());
        expect(after.pathname).toBe(before.pathname.replace(/^\/(en|es)\//, `/${other}/`));
        expect([...after.searchParams]).toEqual([...before.searchParams]);
        expect(response?.status()).toBe(status);
        expect(await page.locator('html').getAttribute('lang')).toBe(other);
        // …and back again.
        expect(await page.locator(`header nav a[hreflang="${lang}"]`).getAttribute('href')).toBe(`${before.pathname}${before.search}`);
        await page.context().close();
      });
    }
  }

  it('#13 a search with mistakes puts the focus on the first invalid field and ties each error to its field', async () => {
    for (const lang of PAGE_LANGS) {
      const page = await newPage(browser, { viewport: PHONE });
      await page.goto(`${base}/${lang}/`);
      await page.fill('#field-lastName', 'Quintero');
      await page.fill('#field-dateOfBirth', '27/03/1990');
      const [response] = await Promise.all([page.waitForNavigation(), page.locator('form.search-form button[type="submit"]').click()]);
      expect(response?.status()).toBe(422);
      const state = await page.evaluate(() => ({
        focused: document.activeElement?.id,
        invalid: [...document.querySelectorAll('[aria-invalid="true"]')].map((el) => el.id),
      }));
      expect(state.invalid).toEqual(['field-firstName', 'field-dateOfBirth']);
      expect(state.focused).toBe(state.invalid[0]);
      expect(await untiedErrors(page)).toEqual([]);
      // Following a link in the error summary brings its field into view, not under the quick exit.
      for (const link of await page.locator('.error-summary a').all()) {
        const target = (await link.getAttribute('href'))!;
        await link.click();
        expect(await coveredByQuickExit(page, target), `${target} after its summary link`).toBe(false);
      }
      await page.context().close();
    }
  });

  it('#13 the checks can fail: a control with no name, an error tied to nothing and a hidden focus are reported', async () => {
    const page = await newPage(browser, { viewport: PHONE });
    await page.goto(`${base}/en/`);
    await page.evaluate(() => {
      document.querySelector('label[for="field-lastName"]')!.remove();
      document.getElementById('field-firstName')!.setAttribute('aria-invalid', 'true');
    });
    expect(await unnamedControls(page)).toEqual([expect.stringContaining('id="field-lastName"')]);
    expect(await untiedErrors(page)).toEqual([expect.stringContaining('field-firstName')]);
    await page.evaluate(() => {
      const link = document.getElementById('quick-exit')!;
      link.style.setProperty('outline', 'none', 'important');
      link.style.setProperty('box-shadow', 'none', 'important');
    });
    expect(await tabStopsWithoutVisibleFocus(page)).toEqual([expect.stringContaining('id="quick-exit"')]);
    await page.context().close();
  });
});

/**
 * The first Tab stop from the top of the page. A page with an autofocused field starts with the focus
 * there, so the starting point moves to the top first (as it is when the page opens without one).
 */
async function firstTabStop(page: Page): Promise<string | undefined> {
  await page.evaluate(() => {
    document.body.setAttribute('tabindex', '-1');
    document.body.focus();
    document.body.removeAttribute('tabindex');
  });
  await page.keyboard.press('Tab');
  return page.evaluate(() => document.activeElement?.id);
}

/** Tabs through the whole page from the top; returns each stop whose focus has neither outline nor shadow. */
async function tabStopsWithoutVisibleFocus(page: Page): Promise<string[]> {
  await firstTabStop(page);
  const unseen: string[] = [];
  for (let stop = 0; stop < 100; stop++) {
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return undefined;
      const style = getComputedStyle(el);
      const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
      return { seen: outline || style.boxShadow !== 'none', what: el.outerHTML.slice(0, 120) };
    });
    if (!focused) break;
    if (!focused.seen) unseen.push(focused.what);
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement?.id === 'quick-exit')) break;
  }
  return unseen;
}

/** Whether the quick exit, pinned to the top, covers any part of the element. */
function coveredByQuickExit(page: Page, selector: string): Promise<boolean> {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel)!;
    const exit = document.getElementById('quick-exit')!;
    if (el === exit) return false;
    const a = el.getBoundingClientRect();
    const b = exit.getBoundingClientRect();
    return a.top < b.bottom && a.bottom > b.top && a.left < b.right && a.right > b.left;
  }, selector);
}

/**
 * Walks the Tab stops backwards from the last one, as Shift+Tab does: the browser scrolls each one
 * just into view at the top edge, where the sticky quick exit sits. Returns each stop it covers.
 */
async function tabStopsUnderQuickExit(page: Page): Promise<string[]> {
  await page.evaluate(() => {
    const focusable = [...document.querySelectorAll<HTMLElement>('a[href], button, input:not([type="hidden"]), select, textarea')];
    focusable[focusable.length - 1].focus();
  });
  const covered: string[] = [];
  for (let stop = 0; stop < 100; stop++) {
    const id = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      el.setAttribute('data-tab-stop', '');
      return el.id;
    });
    if (id === 'quick-exit') break;
    if (await coveredByQuickExit(page, '[data-tab-stop]'))
      covered.push(await page.evaluate(() => document.querySelector('[data-tab-stop]')!.outerHTML.slice(0, 120)));
    await page.evaluate(() => document.querySelector('[data-tab-stop]')!.removeAttribute('data-tab-stop'));
    await page.keyboard.press('Shift+Tab');
  }
  return covered;
}

/** Every visible control whose accessible name, as chromium's accessibility tree computes it, is empty. */
async function unnamedControls(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { root } = await cdp.send('DOM.getDocument', { depth: -1 });
    const { nodeIds } = await cdp.send('DOM.querySelectorAll', {
      nodeId: root.nodeId,
      selector: 'input:not([type="hidden"]), select, textarea, button',
    });
    const unnamed: string[] = [];
    for (const nodeId of nodeIds) {
      const { nodes } = await cdp.send('Accessibility.getPartialAXTree', { nodeId, fetchRelatives: false });
      const name = String(nodes[0]?.name?.value ?? '').trim();
      if (!name) unnamed.push((await cdp.send('DOM.getOuterHTML', { nodeId })).outerHTML.slice(0, 160));
    }
    return unnamed;
  } finally {
    await cdp.detach();
  }
}

/**
 * Each field marked invalid must be described by a visible error message, and each link in the
 * error summary must lead to a field marked invalid.
 */
function untiedErrors(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    for (const field of document.querySelectorAll('[aria-invalid="true"]')) {
      const described = (field.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean);
      const message = described.map((id) => document.getElementById(id)).find((el) => el?.classList.contains('error-message'));
      if (!message?.textContent?.trim()) problems.push(`${field.id}: no error message in aria-describedby`);
    }
    for (const link of document.querySelectorAll<HTMLAnchorElement>('.error-summary a[href^="#"]')) {
      const target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
      if (target?.getAttribute('aria-invalid') !== 'true') problems.push(`summary link ${link.hash}: leads to no invalid field`);
    }
    return problems;
  });
}
