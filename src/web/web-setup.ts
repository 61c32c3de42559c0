import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyStatic from '@fastify/static';
import fastifyView from '@fastify/view';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Eta } from 'eta';
import type { FastifyInstance, onRequestHookHandler, RouteOptions } from 'fastify';
import { subkey } from '../common/crypto/field-cipher.js';
import type { AppConfig } from '../config/app-config.js';
import { isPagePath } from './page-paths.js';

export const VIEWS_DIR = fileURLToPath(new URL('./views/', import.meta.url));
const ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));
export const CSRF_FIELD = '_csrf';

/**
 * No inline script or style, nothing from elsewhere: a page injected with markup still cannot
 * load or run anything. Forms post only here; no framing (a hidden page over a victim's screen).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

/** The HTTP side of the web pages: templates, the stylesheet and script, cookies, CSRF and the page headers. */
export async function setupWeb(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const secure = config.publicBaseUrl.startsWith('https:');
  await app.register(fastifyCookie, { secret: subkey(config.security.encryptionKey, 'vigil/cookie-signing').toString('base64') });
  await app.register(fastifyCsrf, {
    cookieKey: 'vigil_csrf',
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'lax', secure, signed: true },
    getToken: (req) => {
      const value = (req.body as Record<string, unknown> | undefined)?.[CSRF_FIELD];
      return typeof value === 'string' ? value : undefined;
    },
  });
  await app.register(fastifyView, {
    engine: { eta: new Eta({ views: VIEWS_DIR, cache: config.env !== 'development', autoEscape: true, useWith: false }) },
    root: VIEWS_DIR,
  });
  await app.register(fastifyStatic, {
    root: ASSETS_DIR,
    prefix: '/assets/',
    decorateReply: false,
    // A stylesheet and a script: an hour in caches, and never an index of the folder.
    maxAge: 3_600_000,
    index: false,
    list: false,
  });
}

/** CSRF before the handler of every page form (after the body is parsed, where the token is). */
export function pageRouteHooks(fastify: FastifyInstance, route: RouteOptions): void {
  if (!isPagePath(route.url)) return;
  if ([route.method].flat().some((method) => method !== 'GET' && method !== 'HEAD')) {
    route.preHandler = [fastify.csrfProtection, ...[route.preHandler ?? []].flat()];
  }
}

/** A global hook, so an address no route matches (a mistyped page) gets the page headers too. */
export const pageHeaders: onRequestHookHandler = (req, reply, done) => {
  if (isPagePath(req.url)) {
    void reply.headers({
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    });
  }
  done();
};
