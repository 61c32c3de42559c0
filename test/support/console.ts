import { randomBytes } from 'node:crypto';
import supertest from 'supertest';
import { expect } from 'vitest';
import type { TestApp } from './test-app.js';

export type ConsoleBrowser = ReturnType<typeof supertest.agent>;

/** The CSRF token a rendered page carries in its forms. */
export function csrfOn(page: { text: string }): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
  if (!token) throw new Error('the page carries no CSRF token');
  return token;
}

/** A browser of its own (cookies kept), signed in to the console through its login form. */
export async function consoleSignIn(t: TestApp, email: string, password: string): Promise<ConsoleBrowser> {
  const browser = supertest.agent(t.app.getHttpServer());
  const form = await browser.get('/console/login');
  const res = await browser
    .post('/console/login')
    .type('form')
    .send({ email, password, _csrf: csrfOn(form) });
  expect(res.status, 'console sign-in').toBe(303);
  return browser;
}

/** A new staff member created through the admin API, with the password to sign in as them. */
export async function newStaff(t: TestApp, role: 'admin' | 'specialist'): Promise<{ email: string; password: string }> {
  const email = `${role}-${randomBytes(4).toString('hex')}@test.vigil`;
  const password = `password ${randomBytes(8).toString('hex')}`;
  const res = await t
    .http()
    .post('/v1/admin/staff')
    .set('Authorization', `Bearer ${await t.adminToken()}`)
    .send({ email, password, role });
  expect(res.status, res.text).toBe(201);
  return { email, password };
}
