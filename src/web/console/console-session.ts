import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { JwtService } from '@nestjs/jwt';
import { AuthService } from '../../auth/auth.service.js';
import { StaffAuthGuard, type StaffPrincipal, type StaffTokenClaims } from '../../auth/staff-auth.guard.js';
import { DomainError } from '../../common/problem/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { isLang, type Lang } from '../../i18n/messages.js';
import { preferredLang } from '../page-paths.js';

export const CONSOLE_SESSION_COOKIE = 'vigil_console';
const CONSOLE_LANG_COOKIE = 'vigil_console_lang';

/**
 * The console's session is the staff access token the API issues, in an HttpOnly, SameSite=Strict
 * cookie scoped to /console: the same lifetime, and the same check on every request (a disabled
 * account is out at once), with nothing for script to read. A page opened in the second half of that
 * lifetime renews the cookie, so a specialist at work (on the phone with a victim, a form half filled)
 * is not sent to the login and does not lose what they typed; one left idle for a whole lifetime is.
 */
@Injectable()
export class ConsoleSessions {
  constructor(
    private readonly staffAuth: StaffAuthGuard,
    private readonly auth: AuthService,
    private readonly jwt: JwtService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async principal(req: FastifyRequest, reply: FastifyReply): Promise<StaffPrincipal | undefined> {
    const token = req.cookies?.[CONSOLE_SESSION_COOKIE];
    if (!token) return undefined;
    let staff: StaffPrincipal;
    try {
      staff = await this.staffAuth.verify(token);
    } catch (error) {
      // Only a bad or expired token means "sign in again"; a database outage is a 503 page.
      if (error instanceof DomainError && error.kind === 'unauthorized') return undefined;
      throw error;
    }
    // Verified just above: its generation is the account's current one.
    const claims = this.jwt.decode<StaffTokenClaims & { exp: number }>(token);
    const ttl = this.config.security.jwtTtlSeconds;
    if (claims.exp - Date.now() / 1000 < ttl / 2) {
      const renewed = await this.auth.renew(staff, claims.gen ?? 0);
      this.write(reply, renewed.accessToken, renewed.expiresIn);
    }
    return staff;
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
