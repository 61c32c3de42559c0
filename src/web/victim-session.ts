import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { FieldCipher, sha256 } from '../common/crypto/field-cipher.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

export const VICTIM_SESSION_COOKIE = 'vigil_session';

/** What a victim's browser holds: which registration, and the manage token that opens it. */
export interface VictimSession {
  registrationId: string;
  manageToken: string;
}

/**
 * The victim's session, sealed (AES-256-GCM under the server's key, rotation included) into a
 * cookie: no server-side session store, and nothing readable or forgeable in the browser.
 * No expiry: a frightened user on a shared phone closes the browser and the session is gone.
 */
@Injectable()
export class VictimSessions {
  constructor(
    private readonly cipher: FieldCipher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  /**
   * The session, if its token still opens its registration (as the API's manage-token check does):
   * a stopped or expired registration's session is over. Callers then use the registration services
   * with `{ kind: 'token' }` access, exactly as the API does after its guard.
   */
  async current(req: FastifyRequest): Promise<VictimSession | undefined> {
    const session = this.read(req);
    if (!session) return undefined;
    const rows = await this.db.query<{ id: string }[]>(
      `SELECT id FROM registration WHERE manage_token_hash = $1 AND status <> 'expired' AND (expires_at IS NULL OR expires_at > $2)`,
      [sha256(session.manageToken), this.clock.now()],
    );
    return rows[0]?.id === session.registrationId ? session : undefined;
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
