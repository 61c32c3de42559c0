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
