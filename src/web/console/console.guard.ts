import { applyDecorators, type CanActivate, type ExecutionContext, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import type { StaffRole } from '../../auth/staff-role.js';
import { DomainError } from '../../common/problem/domain-error.js';
import type { ConsoleRequest } from './console-pages.js';
import { ConsoleSessions } from './console-session.js';

/** The metadata key ConsoleOnly writes: the roles a console route admits (read by the guard, and by the tests that walk the router). */
export const CONSOLE_ROLES = 'vigil:console-roles';
export const CONSOLE_LOGIN_REQUIRED = 'CONSOLE_LOGIN_REQUIRED';

/** A console page for these roles (admins always included); without a session the error page sends to the login. */
export function ConsoleOnly(...roles: StaffRole[]): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(CONSOLE_ROLES, roles), UseGuards(ConsoleGuard));
}

@Injectable()
export class ConsoleGuard implements CanActivate {
  constructor(
    private readonly sessions: ConsoleSessions,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<ConsoleRequest>();
    const staff = await this.sessions.principal(req, context.switchToHttp().getResponse<FastifyReply>());
    if (!staff) throw new DomainError('unauthorized', CONSOLE_LOGIN_REQUIRED, 'Sign in to the console.');
    req.consoleStaff = staff;
    const allowed =
      this.reflector.getAllAndOverride<StaffRole[] | undefined>(CONSOLE_ROLES, [context.getHandler(), context.getClass()]) ?? [];
    if (allowed.length && staff.role !== 'admin' && !allowed.includes(staff.role)) {
      throw new DomainError('forbidden', 'ROLE_FORBIDDEN', 'Your role may not do this.');
    }
    return true;
  }
}
