import { FieldDecryptError } from '../common/crypto/field-cipher.js';
import type { AttemptOutcome } from '../database/delivery.repository.js';

export interface Classified {
  outcome: Extract<AttemptOutcome, 'transient_error' | 'permanent_error'>;
  errorCode: string;
  errorClass: string;
}

/** Full jitter: random(0, min(cap, base·2^n)), n counting from 0 for the first retry. */
export function backoffSeconds(
  retry: number,
  policy: { baseSeconds: number; capSeconds: number },
  random: () => number = Math.random,
): number {
  return random() * Math.min(policy.capSeconds, policy.baseSeconds * 2 ** retry);
}

// DESIGN's delivery policy; anything unknown is treated as transient, since a wrongly dropped alert costs more than a retry.
const TWILIO_TRANSIENT = new Set([20429, 30001, 30003]);
const TWILIO_PERMANENT = new Set([21211, 21610, 21614, 30005, 30006]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ESOCKET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNECTION',
  'EDNS',
  // undici, under the twilio SDK: connect timeout, a socket closed mid-request, a pool closed under it.
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/**
 * Sorts a provider failure into retry-or-not. Works on the shapes the libraries throw: nodemailer
 * (`responseCode`, `code`), the twilio SDK (`status`, `code` as a number), node network errors.
 */
export function classifyError(error: unknown): Classified {
  // A stored address or code that does not decrypt is Vigil's failure, not the provider's answer: it
  // goes through the retry policy to dead, where admins see it (a key restored to
  // ENCRYPTION_KEYS_PREVIOUS makes a retry succeed; a value sealed to another row never will).
  if (error instanceof FieldDecryptError) return { outcome: 'transient_error', errorCode: `cipher_${error.reason}`, errorClass: 'cipher' };
  const e = (error ?? {}) as { code?: unknown; status?: unknown; responseCode?: unknown; name?: unknown };
  if (typeof e.responseCode === 'number') {
    return e.responseCode >= 500
      ? { outcome: 'permanent_error', errorCode: `smtp_${e.responseCode}`, errorClass: 'smtp' }
      : { outcome: 'transient_error', errorCode: `smtp_${e.responseCode}`, errorClass: 'smtp' };
  }
  if (typeof e.code === 'number') {
    if (TWILIO_PERMANENT.has(e.code)) return { outcome: 'permanent_error', errorCode: `twilio_${e.code}`, errorClass: 'twilio' };
    if (TWILIO_TRANSIENT.has(e.code)) return { outcome: 'transient_error', errorCode: `twilio_${e.code}`, errorClass: 'twilio' };
  }
  if (typeof e.status === 'number') {
    const status = e.status;
    const transient = status === 408 || status === 429 || status >= 500;
    const code = typeof e.code === 'number' ? `twilio_${e.code}` : `http_${status}`;
    return { outcome: transient ? 'transient_error' : 'permanent_error', errorCode: code, errorClass: 'http' };
  }
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code))
    return { outcome: 'transient_error', errorCode: e.code, errorClass: 'network' };
  if (e.name === 'AbortError' || e.name === 'TimeoutError')
    return { outcome: 'transient_error', errorCode: 'timeout', errorClass: 'network' };
  return { outcome: 'transient_error', errorCode: typeof e.code === 'string' ? e.code : 'unknown', errorClass: 'unknown' };
}
