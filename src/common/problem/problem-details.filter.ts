import { randomUUID } from 'node:crypto';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { FieldDecryptError } from '../crypto/field-cipher.js';
import { isDatabaseUnavailable, loggableError } from '../database-errors.js';
import { DomainError, type DomainErrorKind, type FieldError } from './domain-error.js';
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
/** An operator has to act (restore a key, a row) before such a record reads again. */
const STORED_DATA_RETRY_AFTER_SECONDS = 300;

/** Every error leaves as RFC 9457 problem+json; only our own bugs are 500s, and those carry an errorId. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    this.respond(exception, http.getRequest<Request>(), http.getResponse<Response>());
  }

  /** The same answer for errors raised before Nest routes the request (middleware). */
  respond(exception: unknown, req: Request, res: Response): void {
    if (res.headersSent) return;
    const { body, retryAfter } = this.toProblem(exception, req);
    // A 429 always says when to come back (RFC 9110 makes Retry-After optional; clients need it).
    sendProblem(res, body, body.status === 429 && retryAfter === undefined && !res.getHeader('Retry-After') ? 60 : retryAfter);
  }

  private toProblem(exception: unknown, req: Request): { body: Problem; retryAfter?: number } {
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
    const bodyParser = bodyParserProblem(exception);
    if (bodyParser) return { body: bodyParser };
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn({ path: req.path, err: loggableError(exception) }, 'database unavailable');
      return {
        body: problem(503, 'The service is temporarily unavailable. Try again shortly.', { code: 'DATABASE_UNAVAILABLE' }),
        retryAfter: DATABASE_RETRY_AFTER_SECONDS,
      };
    }
    const errorId = randomUUID();
    if (exception instanceof FieldDecryptError) {
      // Tampering, a ciphertext moved to another row, or a key missing from ENCRYPTION_KEYS_PREVIOUS: for operators, not clients.
      this.logger.error({ errorId, path: req.path, field: exception.field, reason: exception.reason }, 'stored data cannot be decrypted');
      return {
        body: problem(503, 'Part of this record cannot be read at the moment. Quote the errorId if it persists.', {
          code: 'STORED_DATA_UNREADABLE',
          errorId,
        }),
        retryAfter: STORED_DATA_RETRY_AFTER_SECONDS,
      };
    }
    this.logger.error({ errorId, path: req.path, err: loggableError(exception) }, 'unhandled error');
    return { body: problem(500, 'An unexpected error occurred. Quote the errorId when reporting it.', { errorId }) };
  }
}

/** Errors raised by the body parsers (malformed JSON, too large, bad charset). */
export function bodyParserProblem(error: unknown): Problem | undefined {
  const type = (error as { type?: unknown })?.type;
  switch (type) {
    case 'entity.parse.failed':
      return problem(400, 'The request body is not valid JSON.', { code: 'MALFORMED_BODY' });
    case 'entity.too.large':
      return problem(413, `The request body is larger than ${(error as { limit?: number }).limit ?? 'allowed'} bytes.`, {
        code: 'BODY_TOO_LARGE',
      });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return problem(415, 'The request body encoding is not supported.', { code: 'UNSUPPORTED_ENCODING' });
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return problem(400, 'The request body could not be read.', { code: 'MALFORMED_BODY' });
    default:
      return undefined;
  }
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
