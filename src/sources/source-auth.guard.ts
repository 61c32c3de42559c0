import { applyDecorators, type CanActivate, createParamDecorator, type ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import { ApiForbiddenResponse, ApiHeader, ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Webhook } from 'standardwebhooks';
import type { RequestWithBodyStream, RequestWithRawBody } from '../common/body-parsing.js';
import { sha256 } from '../common/crypto/field-cipher.js';
import { DomainError } from '../common/problem/domain-error.js';
import { invalidSourceKey, sourceFromHeaders } from './source-key.js';
import { type AuthenticatedSource, SourcesService } from './sources.service.js';
import { checkWebhookIdLength, StreamingWebhookVerifier } from './streaming-webhook-verifier.js';
import type { WebhookMessage } from './webhook-replay.js';

export interface SourceRequest {
  source: AuthenticatedSource;
  /** The Standard Webhooks message, when the request was signed; recorded with the events to tell retries from replays. */
  webhook?: WebhookMessage;
  /** On a route that streams its body: the signature check, fed by whoever reads the body. */
  verifier?: StreamingWebhookVerifier;
}

type RequestWithSource = RequestWithRawBody & RequestWithBodyStream & { sourceRequest?: SourceRequest };

/**
 * Upstream systems: an active API key, and a valid Standard Webhooks signature over the raw body
 * (±5 min) when the source requires one or sends one.
 */
@Injectable()
export class SourceAuthGuard implements CanActivate {
  constructor(private readonly sources: SourcesService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<RequestWithSource>();
    const source = await sourceFromHeaders(req.headers, this.sources);
    if (!source) throw invalidSourceKey();
    if (req.bodyStream) {
      // The wall clock, as the library's check on buffered bodies uses: the sender signs with it.
      req.sourceRequest = { source, verifier: StreamingWebhookVerifier.fromHeaders(source, req.headers, new Date()) };
      return true;
    }

    const headers = {
      'webhook-id': header(req, 'webhook-id'),
      'webhook-timestamp': header(req, 'webhook-timestamp'),
      'webhook-signature': header(req, 'webhook-signature'),
    };
    const signed = Object.values(headers).some(Boolean);
    if (!source.signingRequired && !signed) {
      req.sourceRequest = { source };
      return true;
    }
    if (!headers['webhook-id'] || !headers['webhook-timestamp'] || !headers['webhook-signature']) {
      throw new DomainError(
        'unauthorized',
        'SIGNATURE_REQUIRED',
        'This source must sign requests (webhook-id, webhook-timestamp, webhook-signature).',
      );
    }
    checkWebhookIdLength(headers['webhook-id']);
    try {
      new Webhook(source.signingSecret).verify(req.rawBody ?? Buffer.alloc(0), headers as Record<string, string>);
    } catch {
      throw new DomainError(
        'unauthorized',
        'SIGNATURE_INVALID',
        'The webhook signature is invalid or its timestamp is outside ±5 minutes.',
      );
    }
    req.sourceRequest = { source, webhook: { webhookId: headers['webhook-id'], bodyHash: sha256(req.rawBody ?? Buffer.alloc(0)) } };
    return true;
  }
}

function header(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function SourceOnly(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseGuards(SourceAuthGuard),
    // Signed (required once the source has signingRequired), or the key alone.
    ApiSecurity({ source: [], 'source-signature': [] }),
    ApiSecurity('source'),
    ApiHeader({
      name: 'webhook-id',
      required: false,
      description: 'Standard Webhooks message id, the same on every retry of it',
      example: 'msg_2b7Yg0nE5fQ',
    }),
    ApiHeader({ name: 'webhook-timestamp', required: false, description: 'Unix seconds when signed; ±5 minutes', example: '1767225600' }),
    ApiUnauthorizedResponse({
      description:
        'SOURCE_AUTH_INVALID: no or bad API key; SIGNATURE_REQUIRED, SIGNATURE_INVALID: a missing, bad or stale signature; ' +
        'WEBHOOK_REPLAYED: a webhook-id already received with another body',
    }),
    ApiForbiddenResponse({ description: 'A facility this source may not report' }),
  );
}

export const CurrentSource = createParamDecorator(
  (_: unknown, context: ExecutionContext): SourceRequest => context.switchToHttp().getRequest<RequestWithSource>().sourceRequest!,
);
