import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, retryableConflict } from './database-errors.js';

describe('isDatabaseUnavailable', () => {
  it.each([
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    [new Error('Connection terminated unexpectedly')],
    [new Error('timeout exceeded when trying to connect')],
    [{ name: 'QueryFailedError', message: 'x', driverError: { code: '57P01' } }],
    [{ message: 'x', code: '08006' }],
    [{ message: 'wrapped', cause: { code: 'ECONNRESET' } }],
  ])('recognises %o', (error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    [new Error('boom')],
    [{ message: 'duplicate key', driverError: { code: '23505' } }],
    [{ message: 'syntax error', code: '42601' }],
    [undefined],
  ])('does not mistake %o for an outage', (error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});

describe('retryableConflict', () => {
  it('#11.3 deadlock retried: names deadlocks and serialization failures, however wrapped, and nothing else', () => {
    expect(retryableConflict({ name: 'QueryFailedError', message: 'deadlock detected', driverError: { code: '40P01' } })).toBe('40P01');
    expect(retryableConflict({ message: 'x', code: '40001' })).toBe('40001');
    expect(retryableConflict({ message: 'wrapped', cause: { code: '40P01' } })).toBe('40P01');
    expect(retryableConflict({ message: 'duplicate key', driverError: { code: '23505' } })).toBeUndefined();
    expect(retryableConflict(new Error('boom'))).toBeUndefined();
    expect(retryableConflict(undefined)).toBeUndefined();
  });
});
