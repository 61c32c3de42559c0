import { createHash, createHmac, type Hash, type Hmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { DomainError } from '../common/problem/domain-error.js';
import type { WebhookMessage } from './webhook-replay.js';

/** Standard Webhooks' tolerance, as `standardwebhooks` applies it to a whole body. */
const TOLERANCE_SECONDS = 5 * 60;
const SECRET_PREFIX = 'whsec_';

const signatureRequired = () =>
  new DomainError(
    'unauthorized',
    'SIGNATURE_REQUIRED',
    'This source must sign requests (webhook-id, webhook-timestamp, webhook-signature).',
  );
/** A webhook-id is stored in a unique index with its source; PostgreSQL refuses index rows of a few KB. */
const MAX_WEBHOOK_ID_LENGTH = 256;

/** 401 for a webhook-id longer than Vigil keeps: checked before any work, like the signature. */
export function checkWebhookIdLength(id: string): void {
  if (id.length > MAX_WEBHOOK_ID_LENGTH) {
    throw new DomainError('unauthorized', 'SIGNATURE_INVALID', `The webhook-id must be at most ${MAX_WEBHOOK_ID_LENGTH} characters.`);
  }
}

const signatureInvalid = () =>
  new DomainError('unauthorized', 'SIGNATURE_INVALID', 'The webhook signature is invalid or its timestamp is outside ±5 minutes.');

/**
 * The Standard Webhooks check of SourceAuthGuard, fed one chunk at a time, for bodies too big to
 * hold whole (a 50 MB roster): the HMAC and the body's SHA-256 are computed over the bytes as they
 * arrive, and compared once the last one is in. The headers are checked up front, so a stale or
 * missing signature is refused before any of the body is read.
 */
export class StreamingWebhookVerifier {
  private readonly hmac: Hmac;
  private readonly hash: Hash = createHash('sha256');

  private constructor(
    key: Buffer,
    private readonly webhookId: string,
    timestamp: number,
    private readonly signatures: string[],
  ) {
    // What standardwebhooks signs: `${id}.${timestamp as a number}.${body}`.
    this.hmac = createHmac('sha256', key).update(`${webhookId}.${timestamp}.`);
  }

  /**
   * The guard's decision from the headers alone: no verifier for an unsigned request from a source
   * that need not sign; 401 for a partly signed one, one that must sign and did not, or a timestamp
   * outside the tolerance.
   */
  static fromHeaders(
    source: { signingRequired: boolean; signingSecret: string },
    headers: IncomingHttpHeaders,
    now: Date,
  ): StreamingWebhookVerifier | undefined {
    const id = header(headers, 'webhook-id');
    const timestamp = header(headers, 'webhook-timestamp');
    const signature = header(headers, 'webhook-signature');
    if (!source.signingRequired && !id && !timestamp && !signature) return undefined;
    if (!id || !timestamp || !signature) throw signatureRequired();
    checkWebhookIdLength(id);
    const seconds = parseInt(timestamp, 10);
    const nowSeconds = Math.floor(now.getTime() / 1000);
    if (Number.isNaN(seconds) || nowSeconds - seconds > TOLERANCE_SECONDS || seconds > nowSeconds + TOLERANCE_SECONDS) {
      throw signatureInvalid();
    }
    const secret = source.signingSecret.startsWith(SECRET_PREFIX) ? source.signingSecret.slice(SECRET_PREFIX.length) : source.signingSecret;
    const signatures = signature
      .split(' ')
      .map((entry) => entry.split(','))
      .filter(([version, value]) => version === 'v1' && value)
      .map(([, value]) => value);
    return new StreamingWebhookVerifier(Buffer.from(secret, 'base64'), id, seconds, signatures);
  }

  update(chunk: Buffer): void {
    this.hmac.update(chunk);
    this.hash.update(chunk);
  }

  /** After the last chunk: the message to record against replays, or 401 if no signature matches. */
  verify(): WebhookMessage {
    const expected = Buffer.from(this.hmac.digest('base64'));
    const matches = this.signatures.some((value) => {
      const given = Buffer.from(value);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
    if (!matches) throw signatureInvalid();
    return { webhookId: this.webhookId, bodyHash: this.hash.digest() };
  }
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
