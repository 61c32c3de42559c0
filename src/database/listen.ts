import pg from 'pg';

/** Reconnection waits grow from about this (jittered) … */
const RECONNECT_BASE_MS = 100;
/** … to at most this while PostgreSQL stays out of reach. */
const RECONNECT_CAP_MS = 10_000;

export interface ListenHandlers {
  onMessage: (payload: string) => void;
  /** The connection failed or dropped; it is being re-established. */
  onLost: (error: Error) => void;
  /** LISTENing again after a loss: whatever was notified in between was missed. */
  onReconnected: () => void;
}

export interface Listener {
  /** Times the connection came back after a loss. */
  readonly reconnects: number;
  close(): Promise<void>;
}

/**
 * A connection of its own that LISTENs on `channel` and hands every payload to `onMessage`. When
 * it cannot connect, or drops, it connects again with a jittered exponential backoff, LISTENs again
 * and then calls `onReconnected`, so the caller can catch up on what was notified meanwhile.
 * Resolves after the first attempt, successful or not.
 */
export async function listenOn(url: string | undefined, channel: string, handlers: ListenHandlers): Promise<Listener> {
  const listener = new ReconnectingListener(url, channel, handlers);
  if (!(await listener.connect())) listener.retry();
  return listener;
}

class ReconnectingListener implements Listener {
  private client?: pg.Client;
  private closed = false;
  private failures = 0;
  private timer?: NodeJS.Timeout;
  reconnects = 0;

  constructor(
    private readonly url: string | undefined,
    private readonly channel: string,
    private readonly handlers: ListenHandlers,
  ) {}

  async connect(): Promise<boolean> {
    // Keepalive, so a connection that vanishes without a reset (a dead NAT entry) is noticed too.
    const client = new pg.Client({ connectionString: this.url, keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.handlers.onMessage(message.payload ?? '');
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('LISTEN connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      if (!this.closed) this.handlers.onLost(error as Error);
      return false;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return false;
    }
    this.client = client;
    return true;
  }

  /** The next attempt after a random wait in [d/2, d], d doubling per failure up to the cap. */
  retry(): void {
    if (this.closed || this.timer) return;
    const ceiling = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** this.failures++);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.connect().then((connected) => {
          if (!connected) return this.retry();
          this.failures = 0;
          this.reconnects++;
          this.handlers.onReconnected();
        });
      },
      ceiling / 2 + Math.random() * (ceiling / 2),
    );
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  /** Only the live connection's loss counts: a failed attempt already reported itself. */
  private lost(client: pg.Client, error: Error): void {
    if (this.client !== client || this.closed) return;
    this.client = undefined;
    void client.end().catch(() => undefined);
    this.handlers.onLost(error);
    this.retry();
  }
}
