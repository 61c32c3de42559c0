import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StaffAuthGuard, type StaffPrincipal } from '../../auth/staff-auth.guard.js';
import { DomainError } from '../../common/problem/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { isLang, type Lang } from '../../i18n/messages.js';
import { preferredLang } from '../page-paths.js';

export const CONSOLE_SESSION_COOKIE = 'vigil_console';
const CONSOLE_LANG_COOKIE = 'vigil_console_lang';

/**
 * The console's session is the staff access token the API issues, in an HttpOnly, SameSite=Strict
 * cookie scoped to /console: the same expiry, and the same check on every request (a disabled
 * account is out at once), with nothing for script to read.
 */
@Injectable()
export class ConsoleSessions {
  constructor(
    private readonly staffAuth: StaffAuthGuard,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async principal(req: FastifyRequest): Promise<StaffPrincipal | undefined> {
    const token = req.cookies?.[CONSOLE_SESSION_COOKIE];
    if (!token) return undefined;
    try {
      return await this.staffAuth.verify(token);
    } catch (error) {
      // Only a bad or expired token means "sign in again"; a database outage is a 503 page.
      if (error instanceof DomainError && error.kind === 'unauthorized') return undefined;
      throw error;
    }
  }

  write(reply: FastifyReply, accessToken: string, expiresInSeconds: number): void {
    void reply.setCookie(CONSOLE_SESSION_COOKIE, accessToken, { ...this.cookieOptions(), maxAge: expiresInSeconds });
  }

  clear(reply: FastifyReply): void {
    void reply.clearCookie(CONSOLE_SESSION_COOKIE, this.cookieOptions());
  }

  /** `?lang=` switches and is remembered; then the remembered choice; then the browser's. */
  lang(req: FastifyRequest, reply: FastifyReply): Lang {
    const asked = (req.query as Record<string, unknown> | undefined)?.lang;
    if (isLang(asked)) {
      void reply.setCookie(CONSOLE_LANG_COOKIE, asked, this.cookieOptions());
      return asked;
    }
    const kept = req.cookies?.[CONSOLE_LANG_COOKIE];
    return isLang(kept) ? kept : preferredLang(req.headers['accept-language']);
  }

  private cookieOptions() {
    return { path: '/console', httpOnly: true, sameSite: 'strict' as const, secure: this.config.publicBaseUrl.startsWith('https:') };
  }
}
