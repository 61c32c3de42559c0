import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';

const NOTICE_COOKIE = 'vigil_console_notice';

/** What a console page may say once after a redirect: a code, never data (the page reads the rest from the ledger). */
export const NOTICES = ['enrolled', 'resent', 'stopped'] as const;
export type Notice = (typeof NOTICES)[number];

/**
 * A one-time notice after a POST and its 303: set with the redirect, shown by the next page that
 * reads it, then cleared, so a reload or the Back button does not say it again.
 */
@Injectable()
export class ConsoleNotices {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  set(reply: FastifyReply, notice: Notice, detail = ''): void {
    void reply.setCookie(NOTICE_COOKIE, detail ? `${notice}:${detail}` : notice, this.cookieOptions());
  }

  /** The notice waiting for this page, if any: only a known code, with a short word or number at most, is believed. */
  take(req: FastifyRequest, reply: FastifyReply): { notice: Notice; detail: string | undefined } | undefined {
    const value = req.cookies?.[NOTICE_COOKIE];
    if (value === undefined) return undefined;
    void reply.clearCookie(NOTICE_COOKIE, this.cookieOptions());
    const match = /^([a-z]+)(?::([a-z0-9]{1,12}))?$/.exec(value);
    const notice = NOTICES.find((known) => known === match?.[1]);
    return notice && { notice, detail: match?.[2] };
  }

  private cookieOptions() {
    return { path: '/console', httpOnly: true, sameSite: 'strict' as const, secure: this.config.publicBaseUrl.startsWith('https:') };
  }
}
