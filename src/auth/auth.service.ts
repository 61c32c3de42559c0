import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AuditService } from '../common/audit.service.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { decoyHash, verifySecret } from '../common/crypto/password-hasher.js';
import { DomainError } from '../common/problem/domain-error.js';
import { RateLimiter } from '../common/rate-limiter.service.js';
import type { LoginResponseDto } from './staff.dto.js';
import type { StaffPrincipal, StaffTokenClaims } from './staff-auth.guard.js';
import { StaffService } from './staff.service.js';

@Injectable()
export class AuthService {
  constructor(
    private readonly staff: StaffService,
    private readonly jwt: JwtService,
    private readonly limiter: RateLimiter,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Unknown email, wrong password and disabled account answer alike, after the same argon2 work.
   * Each email, known or not, locks after repeated failures from whatever addresses (see RateLimiter).
   */
  async login(email: string, password: string, clientAddress?: string): Promise<LoginResponseDto> {
    const lockedFor = await this.limiter.loginAttempt(email);
    if (lockedFor !== undefined) {
      throw new DomainError('rate_limited', 'LOGIN_LOCKED', 'Too many failed logins for this account. Try again later.', {
        retryAfterSeconds: lockedFor,
      });
    }
    const member = await this.staff.findByEmailWithHash(email);
    const valid = await verifySecret(member?.passwordHash ?? (await decoyHash()), password);
    if (!member || !valid || member.disabled) {
      // A wrong password is put on the account it was tried against; what an unknown email typed is kept nowhere.
      if (member) await this.audited(member, 'staff.login_failed', clientAddress);
      throw new DomainError('unauthorized', 'LOGIN_FAILED', 'The email or password is not correct.');
    }
    await this.limiter.forgive(email);
    await this.audited(member, 'staff.login', clientAddress);
    const claims: StaffTokenClaims = { sub: member.id, role: member.role, typ: 'staff', gen: member.sessionGeneration };
    const accessToken = await this.jwt.signAsync(claims, { expiresIn: this.config.security.jwtTtlSeconds });
    return { accessToken, expiresIn: this.config.security.jwtTtlSeconds };
  }

  /**
   * A fresh token for a session still in use (the console renews its cookie this way): the same
   * account and session generation, the role as it is now, a whole lifetime again.
   */
  async renew(staff: StaffPrincipal, generation: number): Promise<LoginResponseDto> {
    const claims: StaffTokenClaims = { sub: staff.staffId, role: staff.role, typ: 'staff', gen: generation };
    const accessToken = await this.jwt.signAsync(claims, { expiresIn: this.config.security.jwtTtlSeconds });
    return { accessToken, expiresIn: this.config.security.jwtTtlSeconds };
  }

  private async audited(member: { id: string; role: string }, action: string, clientAddress?: string): Promise<void> {
    await this.audit.record([
      { actor: { staffId: member.id, role: member.role }, action, targetType: 'staff', targetId: member.id, clientAddress },
    ]);
  }
}
