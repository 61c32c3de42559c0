import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { StaffPrincipal } from './staff-auth.guard.js';

export const CurrentStaff = createParamDecorator(
  (_: unknown, context: ExecutionContext): StaffPrincipal => context.switchToHttp().getRequest<Request & { staff: StaffPrincipal }>().staff,
);
