import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { SkipThrottle, type ThrottlerModuleOptions, ThrottlerGuard } from '@nestjs/throttler';
import type { AppConfig } from '../config/app-config.js';

export type RateLimit = 'public' | 'login';
const LIMITS: RateLimit[] = ['public', 'login'];

export function rateLimits(config: AppConfig): ThrottlerModuleOptions {
  return [
    { name: 'public', ttl: 60_000, limit: config.publicRateLimitPerMinute },
    { name: 'login', ttl: 60_000, limit: config.security.loginRatePerMinute },
  ];
}

/** Per client address; answers 429 problem+json with Retry-After past the limit. */
export function RateLimited(limit: RateLimit): MethodDecorator & ClassDecorator {
  const skip = Object.fromEntries(LIMITS.filter((other) => other !== limit).map((other) => [other, true]));
  return applyDecorators(
    UseGuards(ThrottlerGuard),
    SkipThrottle(skip),
    ApiTooManyRequestsResponse({ description: 'Rate limited; see Retry-After' }),
  );
}
