import http from 'node:http';
import https from 'node:https';

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
  headers: http.IncomingHttpHeaders;
}

/**
 * The transport under the twilio SDK: the SDK still builds every request (paths, parameters, auth,
 * user agent) and parses every answer and error; this only moves bytes, over keep-alive sockets.
 * Its stock client goes through axios, which cost more CPU per message than the rest of a send.
 * With `baseUrl` (TWILIO_API_BASE_URL: scheme, host, port) every call goes there, paths unchanged.
 */
export class TwilioHttpClient {
  private readonly base?: URL;
  private readonly timeoutMs: number;
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
  };

  constructor(options: { baseUrl?: string; timeoutMs: number }) {
    this.base = options.baseUrl ? new URL(options.baseUrl) : undefined;
    this.timeoutMs = options.timeoutMs;
  }

  async request(opts: TwilioHttpRequest): Promise<TwilioHttpResponse> {
    const url = new URL(opts.uri);
    if (this.base) {
      url.protocol = this.base.protocol;
      url.host = this.base.host;
    }
    for (const [key, value] of Object.entries(opts.params ?? {})) appendField(url.searchParams, key, value);
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.username && opts.password)
      headers.Authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
    else if (opts.authStrategy) headers.Authorization = await opts.authStrategy.getAuthString();
    let body: string | undefined;
    if (opts.data) {
      const form = new URLSearchParams();
      for (const [key, value] of Object.entries(opts.data)) appendField(form, key, value);
      body = form.toString();
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const transport = url.protocol === 'https:' ? https : http;
    const agent = url.protocol === 'https:' ? this.agents['https:'] : this.agents['http:'];
    const timeout = opts.timeout ?? this.timeoutMs;
    return new Promise((resolve, reject) => {
      const req = transport.request(url, { method: opts.method.toUpperCase(), headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }),
        );
      });
      req.setTimeout(timeout, () =>
        req.destroy(Object.assign(new Error(`Twilio did not answer within ${timeout} ms`), { code: 'ETIMEDOUT' })),
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    for (const agent of Object.values(this.agents)) agent.destroy();
  }
}

/** Form fields as the SDK's own client sends them: arrays repeat the key, undefined is left out. */
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
