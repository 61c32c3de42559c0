import type { IncomingHttpHeaders } from 'node:http';
import { applyDecorators, type CanActivate, type ExecutionContext, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../common/problem/domain-error.js';
import type { StaffRole } from './staff-role.js';
import { StaffService } from './staff.service.js';

export interface StaffPrincipal {
  staffId: string;
  email: string;
  role: StaffRole;
}

export interface StaffTokenClaims {
  sub: string;
  role: StaffRole;
  typ: 'staff';
  /** The account's session generation when the token was made (tokens from before it existed: 0). */
  gen?: number;
}

const ROLES_KEY = 'vigil:staff-roles';

export function bearerToken(req: { headers: IncomingHttpHeaders }): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Staff routes: a valid, unexpired staff JWT whose account still exists, is not disabled and has had
 * no password reset since the token was made (looked up on every request, so disabling or resetting
 * takes effect at once), with one of the allowed roles.
 * Admins may do everything a specialist may.
 */
@Injectable()
export class StaffAuthGuard implements CanActivate {
  constructor(
    private readonly jwt: JwtService,
    private readonly staff: StaffService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<FastifyRequest & { staff?: StaffPrincipal }>();
    const token = bearerToken(req);
    if (!token) throw new DomainError('unauthorized', 'AUTH_REQUIRED', 'A staff access token is required.');
    const member = await this.verify(token);
    const allowed = this.reflector.getAllAndOverride<StaffRole[]>(ROLES_KEY, [context.getHandler(), context.getClass()]) ?? [];
    if (allowed.length && member.role !== 'admin' && !allowed.includes(member.role)) {
      throw new DomainError('forbidden', 'ROLE_FORBIDDEN', 'Your role may not do this.');
    }
    req.staff = member;
    return true;
  }

  /** The staff member behind a token, or 401. */
  async verify(token: string): Promise<StaffPrincipal> {
    let claims: StaffTokenClaims;
    try {
      claims = await this.jwt.verifyAsync<StaffTokenClaims>(token, { algorithms: ['HS256'] });
    } catch {
      throw new DomainError('unauthorized', 'AUTH_INVALID', 'The access token is invalid or has expired.');
    }
    if (claims.typ !== 'staff') throw new DomainError('unauthorized', 'AUTH_INVALID', 'The access token is invalid or has expired.');
    const member = await this.staff.findActive(claims.sub);
    // A token made before the last password reset belongs to a session the reset ended.
    if (!member || (claims.gen ?? 0) !== member.sessionGeneration)
      throw new DomainError('unauthorized', 'AUTH_INVALID', 'The access token is invalid or has expired.');
    return { staffId: member.id, email: member.email, role: member.role };
  }
}

/** Marks a route or controller as staff-only, for the given roles (admin always included). */
export function StaffOnly(...roles: StaffRole[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(ROLES_KEY, roles),
    UseGuards(StaffAuthGuard),
    ApiBearerAuth('staff'),
    ApiUnauthorizedResponse({ description: 'AUTH_REQUIRED, AUTH_INVALID: no staff token, or an invalid, expired or ended one' }),
    ApiForbiddenResponse({ description: 'ROLE_FORBIDDEN: the staff member’s role may not do this' }),
  );
}
