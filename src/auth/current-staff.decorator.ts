import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { StaffPrincipal } from './staff-auth.guard.js';

export const CurrentStaff = createParamDecorator(
  (_: unknown, context: ExecutionContext): StaffPrincipal =>
    context.switchToHttp().getRequest<FastifyRequest & { staff: StaffPrincipal }>().staff,
);
