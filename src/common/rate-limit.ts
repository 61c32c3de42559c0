import { isIPv6 } from 'node:net';
import { applyDecorators, type CanActivate, type ExecutionContext, Inject, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiTooManyRequestsResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DomainError } from './problem/domain-error.js';
import { type RateCheck, RateLimiter } from './rate-limiter.service.js';

/**
 * `public`: one budget per client across every public route (PUBLIC_RATE_LIMIT_PER_MINUTE).
 * `login`: staff login attempts per client (LOGIN_RATE_LIMIT_PER_MINUTE).
 */
export type RateLimit = 'public' | 'login';
/**
 * A budget on top of the shared one: `signup` for the routes that send messages, one per client
 * across all of them, by the minute and by the day (SIGNUP_RATE_LIMIT_PER_MINUTE, _PER_DAY): each
 * such request can send codes to several numbers, and each is a message someone pays for.
 */
export type RouteLimit = 'signup';

const RATE_LIMITS = Symbol('rate-limits');
const DAY_SECONDS = 86_400;

interface RateLimitMetadata {
  limit: RateLimit;
  route?: RouteLimit;
}

/** Per client address, counted in PostgreSQL across every api process; 429 problem+json with Retry-After past a limit. */
export function RateLimited(limit: RateLimit, route?: RouteLimit): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(RATE_LIMITS, { limit, route } satisfies RateLimitMetadata),
    UseGuards(RateLimitGuard),
    ApiTooManyRequestsResponse({ description: 'Rate limited; see Retry-After' }),
  );
}

@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: RateLimiter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const meta = this.reflector.getAllAndOverride<RateLimitMetadata | undefined>(RATE_LIMITS, [context.getHandler(), context.getClass()]);
    if (!meta) return true;
    const checks: RateCheck[] = [
      {
        bucket: meta.limit,
        limit: meta.limit === 'public' ? this.config.publicRateLimitPerMinute : this.config.security.loginRatePerMinute,
      },
    ];
    if (meta.route === 'signup') {
      checks.push(
        { bucket: 'signup', limit: this.config.signupRateLimitPerMinute },
        { bucket: 'signup-day', limit: this.config.signupRateLimitPerDay, windowSeconds: DAY_SECONDS },
      );
    }
    const retryAfterSeconds = await this.limiter.consume(clientOf(context.switchToHttp().getRequest<FastifyRequest>().ip), checks);
    if (retryAfterSeconds !== undefined) {
      throw new DomainError('rate_limited', 'RATE_LIMITED', 'Too many requests. Try again later.', { retryAfterSeconds });
    }
    return true;
  }
}

/**
 * Whom a limit counts: an IPv4 address, or the /64 of an IPv6 one (one subscriber's allocation:
 * counting single IPv6 addresses would hand each client 2^64 budgets).
 */
export function clientOf(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const address = ip.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (!isIPv6(address)) return address;
  const [head, tail] = address.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : []);
  const first = groups(head);
  const all = tail === undefined ? first : [...first, ...Array<string>(8 - first.length - groups(tail).length).fill('0'), ...groups(tail)];
  return `${all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
