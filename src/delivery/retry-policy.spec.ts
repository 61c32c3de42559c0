import { describe, expect, it } from 'vitest';
import { FieldDecryptError } from '../common/crypto/field-cipher.js';
import { backoffSeconds, classifyError } from './retry-policy.js';

describe('backoff', () => {
  const policy = { baseSeconds: 5, capSeconds: 900 };
  it('grows as base·2^n with full jitter and stops at the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffSeconds(n, policy, () => 1))).toEqual([5, 10, 20, 40, 80, 160, 320, 640, 900]);
    expect(backoffSeconds(3, policy, () => 0)).toBe(0);
    expect(backoffSeconds(3, policy, () => 0.5)).toBe(20);
  });
});

describe('classifyError', () => {
  it.each([
    [{ responseCode: 421, code: 'EENVELOPE' }, 'transient_error', 'smtp_421'],
    [{ responseCode: 451 }, 'transient_error', 'smtp_451'],
    [{ responseCode: 550 }, 'permanent_error', 'smtp_550'],
    [{ responseCode: 553 }, 'permanent_error', 'smtp_553'],
    [{ status: 400, code: 21211 }, 'permanent_error', 'twilio_21211'],
    [{ status: 400, code: 21610 }, 'permanent_error', 'twilio_21610'],
    [{ status: 400, code: 21614 }, 'permanent_error', 'twilio_21614'],
    [{ code: 30005 }, 'permanent_error', 'twilio_30005'],
    [{ code: 30006 }, 'permanent_error', 'twilio_30006'],
    [{ status: 429, code: 20429 }, 'transient_error', 'twilio_20429'],
    [{ code: 30001 }, 'transient_error', 'twilio_30001'],
    [{ code: 30003 }, 'transient_error', 'twilio_30003'],
    [{ status: 408 }, 'transient_error', 'http_408'],
    [{ status: 429 }, 'transient_error', 'http_429'],
    [{ status: 500 }, 'transient_error', 'http_500'],
    [{ status: 503 }, 'transient_error', 'http_503'],
    [{ status: 401 }, 'permanent_error', 'http_401'],
    [{ status: 404 }, 'permanent_error', 'http_404'],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'transient_error', 'ECONNREFUSED'],
    [Object.assign(new Error('reset'), { code: 'ECONNRESET' }), 'transient_error', 'ECONNRESET'],
    [Object.assign(new Error('slow'), { code: 'ETIMEDOUT' }), 'transient_error', 'ETIMEDOUT'],
    [new Error('something odd'), 'transient_error', 'unknown'],
  ])('%o → %s %s', (error, outcome, code) => {
    expect(classifyError(error)).toMatchObject({ outcome, errorCode: code });
  });
});

describe('classifyError: stored values that do not decrypt', () => {
  it('#11.17 a stored value that does not decrypt is retried on the policy, so it ends dead where admins see it', () => {
    expect(classifyError(new FieldDecryptError('contact.address', 'unauthentic'))).toEqual({
      outcome: 'transient_error',
      errorCode: 'cipher_unauthentic',
      errorClass: 'cipher',
    });
    for (const reason of ['malformed', 'unknown_key', 'legacy'] as const)
      expect(classifyError(new FieldDecryptError('contact.address', reason))).toEqual({
        outcome: 'transient_error',
        errorCode: `cipher_${reason}`,
        errorClass: 'cipher',
      });
  });
});
