import type { FastifyRequest } from 'fastify';
import twilio from 'twilio';
import type { AppConfig } from '../config/app-config.js';
import { DomainError } from './problem/domain-error.js';

/**
 * Every request claiming to come from Twilio is checked with X-Twilio-Signature over the URL
 * Twilio was given (PUBLIC_BASE_URL + path and query) and the form parameters. Returns the
 * parameters that are single strings: a body that is not a form (none, JSON, a repeated key) must
 * not reach the handlers as anything else.
 */
export function assertSignedByTwilio(config: AppConfig, req: FastifyRequest, body: unknown): Record<string, string> {
  const authToken = config.twilio?.authToken;
  const signature = req.headers['x-twilio-signature'];
  const url = `${config.publicBaseUrl}${req.url}`;
  const params = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  if (!authToken || typeof signature !== 'string' || !twilio.validateRequest(authToken, signature, url, params)) {
    throw new DomainError('unauthorized', 'TWILIO_SIGNATURE_INVALID', 'The request is not signed by Twilio.');
  }
  return Object.fromEntries(Object.entries(params).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}
