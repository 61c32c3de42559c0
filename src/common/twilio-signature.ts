import type { Request } from 'express';
import twilio from 'twilio';
import type { AppConfig } from '../config/app-config.js';
import { DomainError } from './problem/domain-error.js';

/**
 * Every request claiming to come from Twilio is checked with X-Twilio-Signature over the URL
 * Twilio was given (PUBLIC_BASE_URL + path and query) and the form parameters.
 */
export function assertSignedByTwilio(config: AppConfig, req: Request, params: Record<string, string> | undefined): void {
  const authToken = config.twilio?.authToken;
  const signature = req.headers['x-twilio-signature'];
  const url = `${config.publicBaseUrl}${req.originalUrl}`;
  if (!authToken || typeof signature !== 'string' || !twilio.validateRequest(authToken, signature, url, params ?? {})) {
    throw new DomainError('unauthorized', 'TWILIO_SIGNATURE_INVALID', 'The request is not signed by Twilio.');
  }
}
