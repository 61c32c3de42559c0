import { randomBytes } from 'node:crypto';
import http from 'node:http';

export interface TwilioRequest {
  kind: 'message' | 'call';
  params: Record<string, string>;
  authorization: string | undefined;
  /** The SM…/CA… id the answer carries (known before a delayed answer is sent). */
  sid: string;
}

/**
 * A local stand-in for Twilio's REST API, driven through the real twilio SDK (TWILIO_API_BASE_URL).
 * It can be told to answer the next requests with a Twilio error.
 */
export class FakeTwilio {
  readonly requests: TwilioRequest[] = [];
  private readonly failures: Record<'message' | 'call', { status: number; code: number; message?: string }[]> = { message: [], call: [] };
  private server?: http.Server;
  port = 0;
  /** Answer every request this much later, to keep sends in flight. */
  delayMs = 0;
  private held?: Promise<void>;

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
        const match = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\.json$/.exec(req.url ?? '');
        if (!match || req.method !== 'POST') return this.reply(res, 404, { code: 20404, message: 'not found', status: 404 });
        const kind = match[2] === 'Messages' ? 'message' : 'call';
        const failure = this.failures[kind].shift();
        if (failure)
          return this.reply(res, failure.status, {
            code: failure.code,
            message: failure.message ?? `error ${failure.code}`,
            status: failure.status,
          });
        const sid = `${kind === 'message' ? 'SM' : 'CA'}${randomBytes(16).toString('hex')}`;
        this.requests.push({ kind, params, authorization: req.headers.authorization, sid });
        const answer = () =>
          this.reply(res, 201, { sid, account_sid: match[1], to: params.To, from: params.From, status: 'queued', body: params.Body });
        if (this.held) void this.held.then(answer);
        else if (this.delayMs) setTimeout(answer, this.delayMs);
        else answer();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** `message`: the error's text, as a provider may word it (it reaches the ledger's excerpt). */
  failNext(kind: 'message' | 'call', status: number, code: number, times = 1, message?: string): void {
    for (let i = 0; i < times; i++) this.failures[kind].push({ status, code, message });
  }

  /** Keeps every answer from now on until the returned function is called. */
  hold(): () => void {
    let release = () => {};
    this.held = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.held = undefined;
      release();
    };
  }

  clearFailures(): void {
    this.failures.message = [];
    this.failures.call = [];
  }

  messagesTo(to: string): TwilioRequest[] {
    return this.requests.filter((r) => r.kind === 'message' && r.params.To === to);
  }

  callsTo(to: string): TwilioRequest[] {
    return this.requests.filter((r) => r.kind === 'call' && r.params.To === to);
  }

  private reply(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
