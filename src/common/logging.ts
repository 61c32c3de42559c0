import type { Params } from 'nestjs-pino';
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

export function loggerParams(config: AppConfig, destination?: NodeJS.WritableStream): Params {
  return {
    pinoHttp: [
      {
        level: config.logLevel,
        redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
        // Query strings can carry tokens (unsubscribe links) or names: log the path only.
        serializers: {
          req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({
            id: req.id,
            method: req.method,
            path: req.url.split('?')[0],
          }),
          res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        },
        customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
        autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health/') },
      },
      ...(destination ? [destination] : []),
    ] as Params['pinoHttp'],
  };
}
