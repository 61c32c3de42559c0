import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { decoyHash, verifySecret } from '../common/crypto/password-hasher.js';
import { DomainError } from '../common/problem/domain-error.js';
import type { LoginResponseDto } from './staff.dto.js';
import type { StaffTokenClaims } from './staff-auth.guard.js';
import { StaffService } from './staff.service.js';

@Injectable()
export class AuthService {
  constructor(
    private readonly staff: StaffService,
    private readonly jwt: JwtService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Unknown email, wrong password and disabled account answer alike, after the same argon2 work. */
  async login(email: string, password: string): Promise<LoginResponseDto> {
    const member = await this.staff.findByEmailWithHash(email);
    const valid = await verifySecret(member?.password_hash ?? (await decoyHash()), password);
    if (!member || !valid || member.disabled) {
      throw new DomainError('unauthorized', 'LOGIN_FAILED', 'The email or password is not correct.');
    }
    const claims: StaffTokenClaims = { sub: member.id, role: member.role, typ: 'staff' };
    const accessToken = await this.jwt.signAsync(claims, { expiresIn: this.config.security.jwtTtlSeconds });
    return { accessToken, expiresIn: this.config.security.jwtTtlSeconds };
  }
}
