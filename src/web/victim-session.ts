import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FieldCipher } from '../common/crypto/field-cipher.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { RegistrationsService } from '../registrations/registrations.service.js';

export const VICTIM_SESSION_COOKIE = 'vigil_session';

/** What a victim's browser holds: which registration, and the manage token that opens it. */
export interface VictimSession {
  registrationId: string;
  manageToken: string;
}

/**
 * The victim's session, sealed (AES-256-GCM under the server's key, rotation included) into a
 * cookie: no server-side session store, and nothing readable or forgeable in the browser.
 * No expiry attribute (a session cookie); note that mobile browsers may restore such cookies, so
 * the quick exit and the help page's advice on private windows matter more than the cookie's life.
 */
@Injectable()
export class VictimSessions {
  constructor(
    private readonly cipher: FieldCipher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registrations: RegistrationsService,
  ) {}

  /**
   * The session, while its manage token still opens its registration (neither stopped nor expired,
   * as the manage link itself): stopping on one device ends the session on every other. Callers
   * then use the registration services with `{ kind: 'token' }` access, as the API does after its guard.
   */
  async current(req: FastifyRequest): Promise<VictimSession | undefined> {
    const session = this.read(req);
    if (!session) return undefined;
    return (await this.registrations.openByManageToken(session.manageToken)) === session.registrationId ? session : undefined;
  }

  read(req: FastifyRequest): VictimSession | undefined {
    const sealed = req.cookies?.[VICTIM_SESSION_COOKIE];
    if (!sealed) return undefined;
    try {
      const value = JSON.parse(this.cipher.decrypt(sealed, 'web.session', 'victim')) as Partial<VictimSession>;
      if (typeof value.registrationId !== 'string' || typeof value.manageToken !== 'string') return undefined;
      return { registrationId: value.registrationId, manageToken: value.manageToken };
    } catch {
      // Tampered, from a retired key, or from another server: the same as no session.
      return undefined;
    }
  }

  write(reply: FastifyReply, session: VictimSession): void {
    const sealed = this.cipher.encrypt(JSON.stringify(session), 'web.session', 'victim');
    void reply.setCookie(VICTIM_SESSION_COOKIE, sealed, this.cookieOptions());
  }

  clear(reply: FastifyReply): void {
    void reply.clearCookie(VICTIM_SESSION_COOKIE, this.cookieOptions());
  }

  private cookieOptions() {
    return { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: this.config.publicBaseUrl.startsWith('https:') };
  }
}
