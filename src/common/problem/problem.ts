import type { Socket } from 'node:net';
import type { FastifyReply } from 'fastify';
import type { FieldError } from './domain-error.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code?: string;
  errors?: FieldError[];
  errorId?: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problem(status: number, detail: string, extras: Partial<Problem> = {}): Problem {
  const code = extras.code;
  return {
    type: code ? `urn:vigil:problem:${code.toLowerCase().replace(/_/g, '-')}` : 'about:blank',
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    ...extras,
  };
}

/** Writes an RFC 9457 body; Retry-After goes with every 429 and 503. */
export function sendProblem(reply: FastifyReply, body: Problem, retryAfterSeconds?: number): void {
  if (retryAfterSeconds !== undefined) reply.header('Retry-After', String(Math.max(1, Math.ceil(retryAfterSeconds))));
  void reply.status(body.status).type('application/problem+json').send(JSON.stringify(body));
}

/**
 * What Node's HTTP parser refuses before any framework sees the request (headers over 16 KB, a
 * malformed request line, a header timeout) is answered as problem+json too, then the connection
 * closes. Fastify's `clientErrorHandler`, in place of its own JSON answer.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = JSON.stringify(
    problem(status, status === 431 ? 'The request line or headers are too large.' : 'The request could not be read.'),
  );
  socket.end(
    `HTTP/1.1 ${status} ${TITLES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
