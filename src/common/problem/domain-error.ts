export type DomainErrorKind = 'invalid' | 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'rate_limited' | 'unavailable';

export interface FieldError {
  path: string;
  message: string;
}

/**
 * What services throw. The code (`REGISTRATION_NOT_FOUND`) is stable for clients and tests; the
 * kind decides the HTTP status in the one exception filter, so no service knows about HTTP.
 */
export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    readonly code: string,
    message: string,
    readonly options: { errors?: FieldError[]; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
