import type { IncomingHttpHeaders } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { bearerToken } from '../auth/staff-auth.guard.js';
import { DomainError } from '../common/problem/domain-error.js';
import type { AuthenticatedSource, SourcesService } from './sources.service.js';

export const invalidSourceKey = () => new DomainError('unauthorized', 'SOURCE_AUTH_INVALID', 'A valid source API key is required.');

/**
 * The source whose active API key is in the Authorization header, from the headers alone: the
 * guard uses it, and so does the check that runs before a body is read (Express middleware today,
 * a Fastify onRequest hook later).
 */
export async function sourceFromHeaders(headers: IncomingHttpHeaders, sources: SourcesService): Promise<AuthenticatedSource | undefined> {
  const apiKey = bearerToken({ headers });
  return apiKey ? sources.authenticate(apiKey) : undefined;
}

/**
 * Express middleware for the routes with 5 MB and 50 MB bodies: a request without a valid key is
 * answered before its body is read, so nobody can make Vigil buffer and parse 50 MB anonymously.
 * The signature (which needs the raw body) is still checked by the guard after parsing.
 */
export function sourceKeyBeforeBody(
  sources: SourcesService,
  refuse: (error: unknown, req: Request, res: Response) => void,
): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    const answer = (error: unknown) => {
      // The body stays unread: close the connection after the answer rather than drain it.
      res.setHeader('Connection', 'close');
      refuse(error, req, res);
    };
    sourceFromHeaders(req.headers, sources).then((source) => (source ? next() : answer(invalidSourceKey())), answer);
  };
}
