import type { ArgumentsHost } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { DomainError } from './domain-error.js';
import { ProblemDetailsFilter } from './problem-details.filter.js';

function capture() {
  const out: { status?: number; type?: string; body?: string; headers: Record<string, string> } = { headers: {} };
  const reply = {
    sent: false,
    hasHeader: (name: string) => name in out.headers,
    header: (name: string, value: string) => ((out.headers[name] = value), reply),
    status: (code: number) => ((out.status = code), reply),
    type: (type: string) => ((out.type = type), reply),
    send: (body: string) => ((out.body = body), reply),
  };
  const host = {
    switchToHttp: () => ({ getResponse: () => reply, getRequest: () => ({ id: 'req-1', url: '/x', headers: {} }) }),
  } as unknown as ArgumentsHost;
  return { out, host };
}

describe('ProblemDetailsFilter', () => {
  it('turns an unexpected error into a 500 with an errorId and no internals', () => {
    const { out, host } = capture();
    new ProblemDetailsFilter().catch(new Error('secret internals at line 42'), host);
    expect(out.status).toBe(500);
    expect(out.type).toBe('application/problem+json');
    const body = JSON.parse(out.body!);
    expect(body.errorId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.body).not.toContain('secret internals');
  });

  it('maps domain error kinds to statuses and keeps the code', () => {
    const { out, host } = capture();
    new ProblemDetailsFilter().catch(new DomainError('not_found', 'REGISTRATION_NOT_FOUND', 'No such registration.'), host);
    expect(out.status).toBe(404);
    expect(JSON.parse(out.body!)).toMatchObject({ code: 'REGISTRATION_NOT_FOUND', status: 404, detail: 'No such registration.' });
  });

  it('adds Retry-After to 429 and 503', () => {
    const limited = capture();
    new ProblemDetailsFilter().catch(new DomainError('rate_limited', 'TOO_MANY', 'Slow down.', { retryAfterSeconds: 30 }), limited.host);
    expect(limited.out.headers['Retry-After']).toBe('30');
    const down = capture();
    new ProblemDetailsFilter().catch(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), down.host);
    expect(down.out.status).toBe(503);
    expect(Number(down.out.headers['Retry-After'])).toBeGreaterThan(0);
  });
});
