import { randomUUID } from 'node:crypto';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FieldDecryptError } from '../crypto/field-cipher.js';
import { isDatabaseUnavailable, loggableError } from '../database-errors.js';
import { DomainError, type DomainErrorKind, type FieldError } from './domain-error.js';
import { pathOf } from '../logging.js';
import { acceptedMediaTypes, bodyLimitFor, UNSUPPORTED_ENCODING } from '../body-parsing.js';
import { type Problem, problem, sendProblem } from './problem.js';

const KIND_STATUS: Record<DomainErrorKind, number> = {
  invalid: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  unavailable: 503,
};

export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** Renders a problem as a web page (the page's language, the same status); set for page paths. */
export type ErrorPageRenderer = (req: FastifyRequest, reply: FastifyReply, problem: Problem, retryAfterSeconds?: number) => Promise<void>;
/** An operator has to act (restore a key, a row) before such a record reads again. */
const STORED_DATA_RETRY_AFTER_SECONDS = 300;

/** Every error leaves as RFC 9457 problem+json; only our own bugs are 500s, and those carry an errorId. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');
  private errorPages?: { applies: (url: string) => boolean; render: ErrorPageRenderer };

  /** Pages answer their errors as pages (never JSON, never a stack); the API keeps problem+json. */
  renderPagesWith(applies: (url: string) => boolean, render: ErrorPageRenderer): void {
    this.errorPages = { applies, render };
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    this.respond(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }

  /** The same answer for errors raised before Nest routes the request (request hooks). */
  respond(exception: unknown, req: FastifyRequest, reply: FastifyReply): void {
    if (reply.sent) return;
    const { body, retryAfter } = this.toProblem(exception, req);
    if (this.errorPages?.applies(req.url)) {
      const retry = body.status === 429 ? (retryAfter ?? 60) : retryAfter;
      if (retry !== undefined) void reply.header('Retry-After', String(Math.max(1, Math.ceil(retry))));
      this.errorPages.render(req, reply, body, retry).catch((error: unknown) => {
        this.logger.error({ reqId: req.id, path: pathOf(req.url), err: loggableError(error) }, 'error page failed to render');
        if (!reply.sent) void reply.status(body.status).type('text/plain; charset=utf-8').send(body.title);
      });
      return;
    }
    // A 429 always says when to come back (RFC 9110 makes Retry-After optional; clients need it).
    sendProblem(reply, body, body.status === 429 && retryAfter === undefined && !reply.hasHeader('Retry-After') ? 60 : retryAfter);
  }

  private toProblem(exception: unknown, req: FastifyRequest): { body: Problem; retryAfter?: number } {
    // Fastify's own errors (body parsing, routing) reach the filter wrapped in an HttpException.
    const bodyParser = bodyParserProblem(exception instanceof HttpException ? (exception.cause ?? exception) : exception, req);
    if (bodyParser) return { body: bodyParser };
    if (isCsrfError(exception instanceof HttpException ? (exception.cause ?? exception) : exception)) {
      return {
        body: problem(403, 'The form has expired or did not come from this site. Reload the page and send it again.', { code: 'CSRF' }),
      };
    }
    if (exception instanceof DomainError) {
      const status = KIND_STATUS[exception.kind];
      return {
        body: problem(status, exception.message, { code: exception.code, errors: exception.options.errors }),
        retryAfter: exception.options.retryAfterSeconds ?? (status === 503 ? DATABASE_RETRY_AFTER_SECONDS : undefined),
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const detail = typeof response === 'string' ? response : (describe(response) ?? exception.message);
      const errors = typeof response === 'object' ? (response as { errors?: FieldError[] }).errors : undefined;
      const retryAfter = status === 503 ? DATABASE_RETRY_AFTER_SECONDS : undefined;
      return { body: problem(status, detail, { ...(errors ? { errors } : {}) }), retryAfter };
    }
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn({ reqId: req.id, path: pathOf(req.url), err: loggableError(exception) }, 'database unavailable');
      return {
        body: problem(503, 'The service is temporarily unavailable. Try again shortly.', { code: 'DATABASE_UNAVAILABLE' }),
        retryAfter: DATABASE_RETRY_AFTER_SECONDS,
      };
    }
    const errorId = randomUUID();
    if (exception instanceof FieldDecryptError) {
      // Tampering, a ciphertext moved to another row, or a key missing from ENCRYPTION_KEYS_PREVIOUS: for operators, not clients.
      this.logger.error(
        { errorId, reqId: req.id, path: pathOf(req.url), field: exception.field, reason: exception.reason },
        'stored data cannot be decrypted',
      );
      return {
        body: problem(503, 'Part of this record cannot be read at the moment. Quote the errorId if it persists.', {
          code: 'STORED_DATA_UNREADABLE',
          errorId,
        }),
        retryAfter: STORED_DATA_RETRY_AFTER_SECONDS,
      };
    }
    this.logger.error({ errorId, reqId: req.id, path: pathOf(req.url), err: loggableError(exception) }, 'unhandled error');
    return { body: problem(500, 'An unexpected error occurred. Quote the errorId when reporting it.', { errorId }) };
  }
}

/** @fastify/csrf-protection's refusals: no secret cookie, or a token that does not match it. */
function isCsrfError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('FST_CSRF_');
}

/** Errors raised while a body is read and parsed (malformed JSON, too large, wrong media type, bad charset). */
export function bodyParserProblem(error: unknown, req: FastifyRequest): Problem | undefined {
  switch ((error as { code?: unknown } | undefined)?.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return problem(400, 'The request body is not valid JSON.', { code: 'MALFORMED_BODY' });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem(413, `The request body is larger than ${limitOf(req)} bytes.`, {
        code: 'BODY_TOO_LARGE',
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem(415, `This route takes ${acceptedMediaTypes(pathOf(req.url))}; send the body with that Content-Type.`, {
        code: 'UNSUPPORTED_MEDIA_TYPE',
      });
    case UNSUPPORTED_ENCODING:
      return problem(415, 'The request body encoding is not supported: send UTF-8, uncompressed or gzip, deflate or br.', {
        code: 'UNSUPPORTED_ENCODING',
      });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
    case 'ECONNABORTED':
    case 'ECONNRESET':
    case 'Z_DATA_ERROR':
    case 'Z_BUF_ERROR':
    case 'ERR_STREAM_PREMATURE_CLOSE':
      return problem(400, 'The request body could not be read.', { code: 'MALFORMED_BODY' });
    default:
      return undefined;
  }
}

/** The limit of the route the request matched (its path may differ in case from the route's); the path's family otherwise. */
function limitOf(req: FastifyRequest): number {
  const form = req.headers['content-type']?.toLowerCase().startsWith('application/x-www-form-urlencoded');
  const routeLimit = (req.routeOptions as { bodyLimit?: number } | undefined)?.bodyLimit;
  return (!form && routeLimit) || bodyLimitFor(pathOf(req.url), req.headers['content-type']);
}

function describe(response: object): string | undefined {
  const message = (response as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  // @nestjs/terminus answers with its check result
  const failed = (response as { status?: unknown; error?: Record<string, unknown> }).error;
  if ((response as { status?: unknown }).status === 'error' && failed) return `Not ready: ${Object.keys(failed).join(', ')} unavailable.`;
  if (Array.isArray(message)) return message.join('; ');
  return undefined;
}
