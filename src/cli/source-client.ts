import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** What an upstream system holds: its API key, and its signing secret when it signs. */
export interface SourceCredentials {
  apiKey: string;
  signingSecret?: string;
}

export interface SourceAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** Standard Webhooks headers over the exact bytes that will be sent. */
export function webhookHeaders(
  signingSecret: string,
  rawBody: string,
  at = new Date(),
  webhookId = `msg_${randomUUID()}`,
): Record<string, string> {
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(signingSecret).sign(webhookId, at, rawBody),
  };
}

/** The headers a source sends with a JSON body: the key, and the signature when it has a secret. */
export function sourceHeaders(credentials: SourceCredentials, rawBody: string): Record<string, string> {
  return {
    authorization: `Bearer ${credentials.apiKey}`,
    'content-type': 'application/json',
    ...(credentials.signingSecret ? webhookHeaders(credentials.signingSecret, rawBody) : {}),
  };
}

export class VigilUnreachableError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`Vigil is not answering at ${url} (${describeCause(cause)}).`);
    this.name = 'VigilUnreachableError';
  }
}

/** POSTs custody events as a source does, over HTTP, and returns the answer whatever its status. */
export async function postCustodyEvents(baseUrl: string, credentials: SourceCredentials, rawBody: string): Promise<SourceAnswer> {
  const url = `${baseUrl.replace(/\/+$/, '')}/v1/custody-events`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: sourceHeaders(credentials, rawBody),
      body: rawBody,
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new VigilUnreachableError(baseUrl, error);
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.text() };
}

function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
