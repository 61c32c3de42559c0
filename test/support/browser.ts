import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AxeResults, ImpactValue, Result } from 'axe-core';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Viewports the page tests use: a common phone, a laptop, and the narrowest width pages must support. */
export const PHONE = { width: 390, height: 844 } as const;
export const DESKTOP = { width: 1280, height: 800 } as const;
export const NARROW = { width: 320, height: 640 } as const;

export interface Viewport {
  width: number;
  height: number;
}

export interface NewPageOptions {
  viewport?: Viewport;
  /** Pages must work without JavaScript, so tests switch it off to prove it. */
  javaScript?: boolean;
  /** Sets Accept-Language and navigator.language, e.g. 'es-US'. */
  locale?: string;
}

export const SCREENSHOT_DIR = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));

const require = createRequire(import.meta.url);
let axeSource: string | undefined;
// Playwright exposes no getter for a context's options; axe cannot run where scripts are off.
const scriptsOff = new WeakSet<Page>();

/**
 * Debian's chromium, never a downloaded one (CI installs the package; PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD
 * keeps npm from fetching one). One browser per test file: launch in beforeAll, close in afterAll.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    // No sandbox: CI runs as root, where chromium refuses its sandbox.
    args: ['--headless=new', '--no-sandbox', '--disable-gpu'],
  });
}

/** A page in a context of its own (own cookies), so one test's session never leaks into another's. */
export async function newPage(browser: Browser, options: NewPageOptions = {}): Promise<Page> {
  const javaScript = options.javaScript ?? true;
  const context = await browser.newContext({
    viewport: { ...(options.viewport ?? PHONE) },
    javaScriptEnabled: javaScript,
    locale: options.locale ?? 'en-US',
  });
  const page = await context.newPage();
  if (!javaScript) scriptsOff.add(page);
  return page;
}

/**
 * Runs axe-core on the page as it is now and throws, listing each one, when any violation is serious
 * or critical; returns the full results for anything more a test wants to check.
 *
 * Vigil's pages send `Content-Security-Policy: default-src 'self'`, which blocks an injected inline
 * <script> (page.addScriptTag), so axe's source goes in through page.evaluate: DevTools evaluation is
 * not subject to the page's CSP, and the page keeps its real policy while it is checked (bypassCSP
 * would test a different page). axe needs timers, which do not fire in a context with JavaScript off,
 * so check such a page in a JavaScript-on context: the server renders the same HTML either way.
 */
export async function expectNoSeriousAxeViolations(page: Page): Promise<AxeResults> {
  if (scriptsOff.has(page)) {
    throw new Error('axe cannot run in a page opened with javaScript: false; check the page in a context with JavaScript on');
  }
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const results = await page.evaluate(() => (globalThis as unknown as { axe: { run: () => Promise<AxeResults> } }).axe.run());
  const serious = results.violations.filter((violation) => isSerious(violation.impact));
  if (serious.length > 0) {
    throw new Error(`axe found ${serious.length} serious or critical violation(s) on ${page.url()}:\n${serious.map(describe).join('\n')}`);
  }
  return results;
}

/** A full-page PNG under test-results/screenshots/ (kept by CI as an artifact); returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name)) throw new Error(`screenshot name must be a plain file name, got ${JSON.stringify(name)}`);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true, type: 'png' });
  return path;
}

/** Presses Tab until the focused element matches `selector`, as a keyboard-only user would; returns the presses it took. */
export async function tabTo(page: Page, selector: string, maxPresses = 40): Promise<number> {
  const target = page.locator(':focus').and(page.locator(selector));
  for (let presses = 1; presses <= maxPresses; presses++) {
    await page.keyboard.press('Tab');
    if ((await target.count()) > 0) return presses;
  }
  throw new Error(`${selector} did not take focus within ${maxPresses} presses of Tab`);
}

function isSerious(impact: ImpactValue | undefined): boolean {
  return impact === 'serious' || impact === 'critical';
}

function describe(violation: Result): string {
  const targets = violation.nodes.map((node) => node.target.join(' ')).join(', ');
  return `- ${violation.id} (${violation.impact}): ${violation.help} at ${targets}`;
}
