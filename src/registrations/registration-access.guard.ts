import { type CanActivate, createParamDecorator, type ExecutionContext, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { bearerToken, StaffAuthGuard } from '../auth/staff-auth.guard.js';
import { sha256 } from '../common/crypto/field-cipher.js';
import { DomainError } from '../common/problem/domain-error.js';
import type { RegistrationAccess } from './registrations.service.js';

type RequestWithAccess = FastifyRequest & { registrationAccess?: RegistrationAccess };

const NOT_FOUND = () => new DomainError('not_found', 'REGISTRATION_NOT_FOUND', 'No such registration.');

/**
 * The registration's own manage token, or a staff token (whose reach the service narrows to the
 * specialist's enrollees). Another registration's token and a registration that does not exist
 * both answer 404, so nothing reveals which ids exist.
 */
@Injectable()
export class RegistrationAccessGuard implements CanActivate {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly staffAuth: StaffAuthGuard,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<RequestWithAccess>();
    const token = bearerToken(req);
    if (!token) throw new DomainError('unauthorized', 'AUTH_REQUIRED', 'The manage token (or a staff token) is required.');
    if (token.startsWith('vmt_')) {
      const rows: { id: string }[] = await this.db.query(`SELECT id FROM registration WHERE manage_token_hash = $1`, [sha256(token)]);
      if (!rows.length || rows[0].id !== (req.params as { id?: string }).id) throw NOT_FOUND();
      req.registrationAccess = { kind: 'token' };
      return true;
    }
    if (!token.includes('.')) throw NOT_FOUND();
    req.registrationAccess = { kind: 'staff', staff: await this.staffAuth.verify(token), clientAddress: req.ip };
    return true;
  }
}

export const CurrentAccess = createParamDecorator(
  (_: unknown, context: ExecutionContext): RegistrationAccess => context.switchToHttp().getRequest<RequestWithAccess>().registrationAccess!,
);
