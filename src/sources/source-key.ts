import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { bearerToken } from '../auth/staff-auth.guard.js';
import { DomainError } from '../common/problem/domain-error.js';
import type { AuthenticatedSource, SourcesService } from './sources.service.js';

export const invalidSourceKey = () => new DomainError('unauthorized', 'SOURCE_AUTH_INVALID', 'A valid source API key is required.');

/**
 * The source whose active API key is in the Authorization header, from the headers alone: the
 * guard uses it, and so does the check that runs before a body is read.
 */
export async function sourceFromHeaders(headers: IncomingHttpHeaders, sources: SourcesService): Promise<AuthenticatedSource | undefined> {
  const apiKey = bearerToken({ headers });
  return apiKey ? sources.authenticate(apiKey) : undefined;
}

/**
 * An onRequest hook for the routes with 5 MB and 50 MB bodies: a request without a valid key is
 * answered before its body is read, so nobody can make Vigil buffer and parse 50 MB anonymously.
 * The signature (which needs the raw body) is still checked by the guard after parsing.
 */
export function sourceKeyBeforeBody(
  sources: SourcesService,
  refuse: (error: unknown, req: FastifyRequest, reply: FastifyReply) => void,
): onRequestAsyncHookHandler {
  return async (req, reply) => {
    let error: unknown;
    try {
      if (await sourceFromHeaders(req.headers, sources)) return;
      error = invalidSourceKey();
    } catch (failure) {
      error = failure;
    }
    // The body stays unread: close the connection after the answer rather than drain it.
    reply.header('Connection', 'close');
    refuse(error, req, reply);
    return reply;
  };
}
