import { createHash } from 'node:crypto';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// Class 08 connection exceptions, shutdowns, "cannot connect now", too many connections, read-only standby.
const SQLSTATE_UNAVAILABLE = /^(08...|57P0[1-3]|53300|25006)$/;
const MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection terminated unexpectedly',
  'the database system is',
];

/** True when an error means PostgreSQL cannot be reached right now (retry later), not a bug. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const candidate = current as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
    if (typeof candidate.code === 'string' && (NETWORK_CODES.has(candidate.code) || SQLSTATE_UNAVAILABLE.test(candidate.code))) {
      return true;
    }
    if (typeof candidate.message === 'string' && MESSAGES.some((text) => (candidate.message as string).includes(text))) {
      return true;
    }
    current = candidate.driverError ?? candidate.cause;
  }
  return false;
}

/** What a log line may say about a failure: never parameters, row details or database messages. */
export interface LoggedError {
  type: string;
  /** PostgreSQL's SQLSTATE (23505) or the network code (ECONNREFUSED). */
  sqlState?: string;
  /** `insert staff#1f2e3d4c`: the verb, the first table and a hash of the SQL text, to find the query. */
  statement?: string;
  table?: string;
  constraint?: string;
  /** Only for errors that are not the database's: its messages quote values (`invalid input syntax for type uuid: "…"`). */
  message?: string;
  stack?: string;
}

/**
 * The loggable part of an error. A failed query's error carries its parameters and PostgreSQL's
 * `detail` ("Failing row contains (…)"): names, dates of birth, A-numbers, emails. None of that,
 * nor the message, is kept; the stack keeps its frames only (its first line is the message).
 */
export function loggableError(error: unknown, query?: unknown): LoggedError {
  const e = (error ?? {}) as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
    stack?: unknown;
    query?: unknown;
    driverError?: { code?: unknown; table?: unknown; constraint?: unknown };
    table?: unknown;
    constraint?: unknown;
  };
  const driver = e.driverError ?? e;
  const code = typeof driver.code === 'string' ? driver.code : typeof e.code === 'string' ? e.code : undefined;
  const fromDatabase = Boolean(e.driverError) || e.name === 'QueryFailedError' || (code !== undefined && /^[0-9A-Z]{5}$/.test(code));
  const sql = query ?? e.query;
  const logged: LoggedError = { type: typeof e.name === 'string' ? e.name : typeof error };
  if (code) logged.sqlState = code;
  if (sql) logged.statement = statementName(sql);
  if (typeof driver.table === 'string') logged.table = driver.table;
  if (typeof driver.constraint === 'string') logged.constraint = driver.constraint;
  if (!fromDatabase && !NETWORK_CODES.has(code ?? '') && typeof e.message === 'string') logged.message = e.message;
  if (typeof e.stack === 'string') {
    const frames = e.stack.split('\n').filter((line) => /^\s+at /.test(line));
    if (frames.length) logged.stack = frames.join('\n');
  }
  return logged;
}

/** A query's name for the log: a prepared statement's own name, else verb, first table and a hash of the text. */
export function statementName(query: unknown): string {
  if (query && typeof query === 'object' && typeof (query as { name?: unknown }).name === 'string') return (query as { name: string }).name;
  const inner = (query as { text?: unknown } | undefined)?.text;
  const text = typeof query === 'string' ? query : typeof inner === 'string' ? inner : '';
  const verb = /^\s*([a-z]+)/i.exec(text)?.[1]?.toLowerCase() ?? 'query';
  const table = /\b(?:into|update|from|join|table)\s+"?([a-z_][a-z0-9_]*)/i.exec(text)?.[1]?.toLowerCase();
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 8);
  return `${verb}${table ? ` ${table}` : ''}#${hash}`;
}

// Deadlock detected, serialization failure: the transaction lost a race and may simply run again.
const SQLSTATE_RETRYABLE = new Set(['40P01', '40001']);

/** The SQLSTATE when an error means the transaction was rolled back to break a deadlock or a serialization conflict. */
export function retryableConflict(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const candidate = current as { code?: unknown; driverError?: unknown; cause?: unknown };
    if (typeof candidate.code === 'string' && SQLSTATE_RETRYABLE.has(candidate.code)) return candidate.code;
    current = candidate.driverError ?? candidate.cause;
  }
  return undefined;
}
