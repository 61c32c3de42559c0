import { Agent, errors } from 'undici';

/** What the twilio SDK hands its `httpClient` (the shape of its own RequestClient's `request`). */
export interface TwilioHttpRequest {
  method: string;
  uri: string;
  username?: string;
  password?: string;
  authStrategy?: { getAuthString(): Promise<string> };
  headers?: Record<string, string>;
  params?: Record<string, unknown>;
  data?: Record<string, unknown>;
  timeout?: number;
}

export interface TwilioHttpResponse {
  statusCode: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * The transport under the twilio SDK: the SDK still builds every request (paths, parameters, auth,
 * user agent) and parses every answer and error; this only moves bytes, over undici's keep-alive
 * connection pools. The SDK's stock client goes through axios, whose per-request work cost more
 * CPU than the rest of a send; node:http cost ~100 µs a request more than undici.
 * With `baseUrl` (TWILIO_API_BASE_URL: scheme, host, port) every call goes there, paths unchanged.
 */
export class TwilioHttpClient {
  private readonly origin?: string;
  private readonly timeoutMs: number;
  private readonly agent: Agent;
  private basic?: { user: string; password: string; header: string };

  constructor(options: { baseUrl?: string; timeoutMs: number }) {
    this.origin = options.baseUrl ? new URL(options.baseUrl).origin : undefined;
    this.timeoutMs = options.timeoutMs;
    this.agent = new Agent({ connections: 64, keepAliveTimeout: 30_000 });
  }

  async request(opts: TwilioHttpRequest): Promise<TwilioHttpResponse> {
    // The SDK's uri is absolute ("https://api.twilio.com/2010-04-01/..."); the path starts at the first "/" after the scheme.
    const pathStart = opts.uri.indexOf('/', opts.uri.indexOf('://') + 3);
    const origin = this.origin ?? (pathStart < 0 ? opts.uri : opts.uri.slice(0, pathStart));
    let path = pathStart < 0 ? '/' : opts.uri.slice(pathStart);
    const query = formEncode(opts.params);
    if (query) path += (path.includes('?') ? '&' : '?') + query;
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.username && opts.password) headers.Authorization = this.basicAuth(opts.username, opts.password);
    else if (opts.authStrategy) headers.Authorization = await opts.authStrategy.getAuthString();
    const timeout = opts.timeout ?? this.timeoutMs;
    try {
      const res = await this.agent.request({
        origin,
        path,
        method: opts.method.toUpperCase(),
        headers,
        body: opts.data ? formEncode(opts.data) : undefined,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      return { statusCode: res.statusCode, body: await res.body.text(), headers: res.headers };
    } catch (error) {
      if (error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError)
        throw Object.assign(new Error(`Twilio did not answer within ${timeout} ms`), { code: 'ETIMEDOUT' });
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** The account's credentials never change while running: encode them once. */
  private basicAuth(user: string, password: string): string {
    if (this.basic?.user !== user || this.basic.password !== password)
      this.basic = { user, password, header: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
    return this.basic.header;
  }
}

/** Form fields as the SDK's own client sends them: arrays repeat the key, undefined is left out. */
function formEncode(fields: Record<string, unknown> | undefined): string {
  if (!fields) return '';
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) appendField(form, key, value);
  return form.toString();
}

function appendField(target: URLSearchParams, key: string, value: unknown): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) for (const item of value) appendField(target, key, item);
  else target.append(key, formValue(value));
}

function formValue(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return value.toString();
  return JSON.stringify(value);
}
