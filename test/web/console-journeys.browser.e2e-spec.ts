import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { StaffAlertsService } from '../../src/delivery/staff-alerts.service.js';
import { DESKTOP, expectNoSeriousAxeViolations, launchBrowser, newPage, saveScreenshot } from '../support/browser.js';
import { newStaff } from '../support/console.js';
import { ManualClock } from '../support/manual-clock.js';
import { bookPerson, register } from '../support/registrations.js';
import { enrol } from '../support/roster-people.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { createSource, event, personWith, postEvents, putRoster } from '../support/sources.js';
import { ADMIN, startTestApp, type TestApp } from '../support/test-app.js';

const BROWSER_TEST_TIMEOUT = 120_000;

/**
 * #14's two journeys end to end in Chromium, each through the console's own forms and checked where
 * it lands: the SMTP server that receives the victims' messages, the API a jail's system calls.
 */
describe('#14 a day in the console, in Chromium', { timeout: BROWSER_TEST_TIMEOUT }, () => {
  const clock = new ManualClock(new Date());
  let t: TestApp;
  let browser: Browser;
  let smtp: SmtpSink;
  let base: string;

  beforeAll(async () => {
    smtp = new SmtpSink();
    await smtp.start();
    [t, browser] = await Promise.all([
      startTestApp({
        clock,
        env: { SMTP_URL: smtp.url, EMAIL_FROM: 'Vigil <alerts@vigil.test>', PUBLIC_BASE_URL: 'https://vigil.test' },
      }),
      launchBrowser(),
    ]);
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await smtp?.stop();
  });

  const drain = () => t.app.get(DispatcherService).drain();

  async function signIn(page: Page, email: string, password: string): Promise<void> {
    await page.goto(`${base}/console/login`);
    await page.fill('#field-email', email);
    await page.fill('#field-password', password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/console/`);
  }

  it('#14 a specialist enrols a victim with a confirmation, sees the release on the timeline, and resolves the escalation', async () => {
    const source = await createSource(t, { name: 'Journey County Jail' });
    const person = { firstName: 'Octavio', lastName: 'Recorrido' };
    await bookPerson(t, source, 'A-990-000-001', person);
    const specialist = await newStaff(t, 'specialist');
    const page = await newPage(browser, { viewport: DESKTOP });
    await signIn(page, specialist.email, specialist.password);

    await page.getByRole('link', { name: 'Enrol a victim' }).click();
    await page.fill('#field-identifier', 'A-990-000-001');
    await page.locator('#field-identifier').press('Enter');
    await page.waitForURL(/identifier=A-990-000-001/);
    await page.getByRole('link', { name: /Octavio Recorrido/ }).click();
    await page.waitForURL(/\/console\/enrol\/[0-9a-f-]{36}$/);
    await page.fill('#field-registrantName', 'Marisol Recorrido');
    await page.check('#field-language-es');
    await page.fill('#field-email', 'marisol.journey@example.org');
    await expect(page.locator('#field-sendConfirmation').isChecked()).resolves.toBe(true);
    await page.locator('form.signup-form button[type="submit"]').click();
    await page.waitForURL(/\/console\/victims\/[0-9a-f-]{36}$/);
    const timeline = page.url();
    await expect(page.getByRole('status').textContent()).resolves.toMatch(/Email/i);

    // The confirmation reaches the victim, in Spanish, naming whom the alerts are about, with the manage link.
    await drain();
    const [confirmation] = smtp.to('marisol.journey@example.org');
    expect(confirmation.subject).toBe('Está inscrito en las alertas de custodia de Vigil');
    expect(confirmation.text).toContain('Octavio Recorrido');
    expect(confirmation.text).toMatch(/https:\/\/vigil\.test\/es\/manage\?token=/);

    // The jail's system reports the release: the alert goes out and the timeline shows it.
    const released = await postEvents(t, source, event({ type: 'RELEASED', person: personWith('A-990-000-001', person) }));
    expect(released.status, released.text).toBe(202);
    await drain();
    expect(smtp.to('marisol.journey@example.org').map((mail) => mail.subject)).toContain('Alerta de Vigil: Octavio Recorrido');
    await page.goto(timeline);
    await expect(page.locator('[data-event-type="RELEASED"]').count()).resolves.toBe(1);
    await expect(page.locator('[data-kind="enrolled"]').count()).resolves.toBe(1);

    // Nobody confirms the urgent alert within 30 minutes: it escalates to this specialist.
    clock.advance(31 * 60_000);
    expect(await t.app.get(StaffAlertsService).escalate()).toBe(1);
    await page.goto(`${base}/console/`);
    await page.getByRole('link', { name: 'Escalations 1 open' }).click();
    await page.getByRole('button', { name: 'Acknowledge: I am on it' }).click();
    await page.getByRole('textbox', { name: 'What was done (required)' }).fill('Called Marisol; she has a safety plan.');
    await page.getByRole('button', { name: 'Resolve' }).click();
    await expect(page.getByRole('status').textContent()).resolves.toContain('Resolved');
    await expect(page.getByRole('link', { name: 'Escalations', exact: true }).count()).resolves.toBe(1);
    await page.goto(timeline);
    await expect(page.locator('[data-escalation-state="resolved"]').textContent()).resolves.toContain('she has a safety plan');
    await expectNoSeriousAxeViolations(page);
    await saveScreenshot(page, 'console-journey-timeline-1280');
    await page.context().close();
  });

  it('#14 an admin approves a held roster diff and the alert goes out, rotates a source key (the old key then fails), and retries a dead delivery', async () => {
    // A facility of 60, a victim following one of them, and a roster that drops 30 at once: held.
    const source = await createSource(t, { name: 'Journey Roster Feed' });
    const people = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => personWith(`JRN-${from + i}`, { firstName: `P${from + i}`, lastName: 'Journey' }));
    expect(
      (await putRoster(t, source, 'JRN-1', { asOf: new Date(clock.now().getTime() - 120_000).toISOString(), people: people(0, 60) }))
        .status,
    ).toBe(202);
    const specialist = await newStaff(t, 'specialist');
    const token = await t.loginAs(specialist.email, specialist.password);
    const { rows } = await t.db.query(`SELECT p.id FROM person p JOIN person_identifier i ON i.person_id = p.id WHERE i.value = 'JRN0'`);
    await enrol(t, token, rows[0].id as string, 'roster.victim@example.org');
    const held = await putRoster(t, source, 'JRN-1', {
      asOf: new Date(clock.now().getTime() - 60_000).toISOString(),
      people: people(30, 60),
    });
    expect(held.body).toMatchObject({ held: true, released: 30 });

    const page = await newPage(browser, { viewport: DESKTOP, javaScript: false });
    await signIn(page, ADMIN.email, ADMIN.password);
    await page.getByRole('link', { name: 'Held rosters' }).click();
    await expect(page.locator(`[data-snapshot-id="${held.body.snapshotId}"]`).count()).resolves.toBe(1);
    await page.getByRole('button', { name: 'Approve: record the releases and alert victims' }).click();
    await expect(page.getByRole('status').textContent()).resolves.toContain('Approved');
    await drain();
    expect(smtp.to('roster.victim@example.org').map((mail) => mail.subject)).toContain('Vigil alert: P0 Journey');

    // Rotation: a new key shown once, the old one revoked; the jail's system then gets 401 with the old key.
    await page.getByRole('link', { name: 'Sources and keys' }).click();
    const section = page.locator(`[data-source-id="${source.sourceId}"]`);
    const oldKeyId = await section.locator('[data-key-id]').first().getAttribute('data-key-id');
    await section.getByRole('button', { name: 'Add a key' }).click();
    const newKey = (await page.locator('[data-secret="apiKey"]').textContent())!.trim();
    expect(newKey).not.toBe(source.apiKey);
    await page.goto(`${base}/console/sources`);
    await page
      .locator(`[data-key-id="${oldKeyId}"]`)
      .getByRole('button', { name: /^Revoke key/ })
      .click();
    await expect(page.getByRole('status').textContent()).resolves.toContain('The key was revoked');
    expect((await postEvents(t, source, event({ person: personWith('JRN-NEW-1') }))).status).toBe(401);
    expect((await postEvents(t, { ...source, apiKey: newKey }, event({ person: personWith('JRN-NEW-1') }))).status).toBe(202);

    // A message the provider refused for good: an admin retries it and it goes.
    const other = await bookPerson(t, { ...source, apiKey: newKey }, 'JRN-DEAD-1');
    const registered = await register(t, {
      personId: other,
      language: 'en',
      contacts: [{ channel: 'email', address: 'dead.journey@example.org' }],
    });
    expect(registered.status, registered.text).toBe(201);
    const [dead] = (
      await t.db.query(`UPDATE delivery SET status = 'dead', last_error = 'smtp_550' WHERE contact_id = $1 RETURNING id`, [
        registered.body.contacts[0].contactId,
      ])
    ).rows;
    await page.getByRole('link', { name: 'Dead messages' }).click();
    await page.locator(`[data-delivery-id="${dead.id}"]`).getByRole('button', { name: 'Retry' }).click();
    await expect(page.locator(`[data-delivery-id="${dead.id}"]`).count()).resolves.toBe(0);
    await drain();
    expect(smtp.to('dead.journey@example.org').map((mail) => mail.subject)).toContain('Your Vigil verification code');
    const { rows: after } = await t.db.query(`SELECT status FROM delivery WHERE id = $1`, [dead.id]);
    expect(after[0].status).toBe('sent');
    await page.context().close();
  });
});
