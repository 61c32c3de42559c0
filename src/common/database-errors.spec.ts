import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, loggableError, retryableConflict, statementName } from './database-errors.js';

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

describe('loggableError', () => {
  it('#11.7 keeps the SQLSTATE and the statement, never parameters, detail or message', () => {
    const driverError = Object.assign(new Error('invalid input syntax for type date: "Zabrowski"'), {
      code: '22007',
      detail: 'Failing row contains (Zabrowski, 1961-07-23)',
      table: 'person',
    });
    const failed = Object.assign(new Error(driverError.message), {
      name: 'QueryFailedError',
      query: 'INSERT INTO person (last_name) VALUES ($1)',
      parameters: ['Zabrowski'],
      driverError,
      detail: driverError.detail,
    });
    const logged = loggableError(failed);
    expect(logged).toMatchObject({
      type: 'QueryFailedError',
      sqlState: '22007',
      table: 'person',
      statement: expect.stringMatching(/^insert person#/),
    });
    expect(JSON.stringify(logged)).not.toMatch(/Zabrowski|1961/);
    expect(loggableError(new TypeError('x is undefined')).message).toBe('x is undefined');
  });

  it('names a statement by verb, first table and text', () => {
    expect(statementName('WITH x AS (UPDATE delivery SET a = 1) SELECT 1')).toMatch(/^with delivery#[0-9a-f]{8}$/);
    expect(statementName({ name: 'delivery_context', text: 'SELECT …' })).toBe('delivery_context');
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
