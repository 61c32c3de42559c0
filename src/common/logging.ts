import type { LoggerService } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Level, type Logger, pino } from 'pino';
import type { AppConfig } from '../config/app-config.js';

/**
 * Paths never written to a log line: credentials, and anything a victim gave us. Bodies are not
 * logged at all; these catch objects that code passes to the logger on purpose.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-twilio-signature"]',
  'req.headers["webhook-signature"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.pin',
  '*.code',
  '*.address',
  '*.addresses',
  '*.email',
  '*.phone',
  '*.to',
  '*.token',
  '*.manageToken',
  '*.apiKey',
  '*.signingSecret',
  '*.secret',
];

/** The one pino logger of a process's app: Fastify's, and Nest's through `NestPinoLogger`. */
export function createRootLogger(config: AppConfig, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // Query strings can carry tokens (unsubscribe links) or names: log the path only.
    serializers: {
      req: (req: FastifyRequest) => ({ method: req.method, path: pathOf(req.url) }),
      res: (reply: FastifyReply) => ({ statusCode: reply.statusCode }),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * One line per answered request, written when the response is done. Fastify's own request logging
 * writes two; health probes write none.
 */
export function logRequests(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onResponse', (req, reply, done) => {
    const status = reply.statusCode;
    const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    if (logger.isLevelEnabled(level) && !req.url.startsWith('/health/')) {
      logger[level]({ reqId: req.id, req, res: reply, responseTime: Math.round(reply.elapsedTime) }, 'request completed');
    }
    done();
  });
}

export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * Nest's logger writing to the same pino instance, as nestjs-pino's did: the last extra argument
 * is the context, an object argument is merged into the line, an Error becomes `err`.
 */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  verbose(message: unknown, ...params: unknown[]): void {
    this.call('trace', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.call('debug', message, params);
  }
  log(message: unknown, ...params: unknown[]): void {
    this.call('info', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.call('warn', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.call('error', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.call('fatal', message, params);
  }

  private call(level: Level, message: unknown, params: unknown[]): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = params.length ? { context: params[params.length - 1] } : {};
    const rest = params.slice(0, -1);
    if (typeof message === 'object' && message !== null) {
      if (message instanceof Error) fields.err = message;
      else Object.assign(fields, message);
      this.logger[level](fields, ...(rest as [string?]));
    } else if (
      level === 'error' &&
      typeof message === 'string' &&
      rest.length === 1 &&
      typeof rest[0] === 'string' &&
      /\n\s*at /.test(rest[0])
    ) {
      // Nest's exception handlers pass (message, stack, context).
      const err = new Error(message);
      err.stack = rest[0];
      this.logger[level]({ ...fields, err });
    } else {
      this.logger[level](fields, String(message), ...(rest as [string?]));
    }
  }
}
