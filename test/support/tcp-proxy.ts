import { createServer, type Server, type Socket, connect } from 'node:net';

/**
 * A TCP hop between the app and PostgreSQL that a test can cut and restore, to stage a real
 * database outage (connections reset, new ones refused) without touching the shared server.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private open = true;
  /** Connections whose client has sent one of these texts are dropped, then and later. */
  private readonly blocked = new Set<string>();
  private readonly sent = new Map<Socket, string>();
  port = 0;
  /** Connections accepted since start. */
  accepted = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /**
   * A started hop in front of the database at `databaseUrl`, and the URL that goes through it. The
   * embedded cluster's URLs name its Unix socket (`?host=`), which pg would use past any TCP port, so
   * the hop's URL drops it.
   */
  static async before(databaseUrl: string): Promise<{ proxy: TcpProxy; url: string }> {
    const url = new URL(databaseUrl);
    url.searchParams.delete('host');
    const proxy = new TcpProxy(url.hostname, Number(url.port));
    await proxy.start();
    url.port = String(proxy.port);
    return { proxy, url: url.toString() };
  }

  async start(): Promise<void> {
    this.server = createServer((client) => {
      if (!this.open) return client.destroy();
      this.accepted++;
      const upstream = connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.on('data', (chunk: Buffer) => {
        this.sent.set(client, (this.sent.get(client) ?? '') + chunk.toString('latin1'));
        this.dropIfBlocked(client);
      });
      client.on('close', () => this.sent.delete(client));
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  cut(): void {
    this.open = false;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.open = true;
  }

  /**
   * Drops every connection on which the client has sent `text` (say `LISTEN vigil_revoked`), and
   * any later one the moment it sends it, until `unblock`: one kind of connection lost, the rest
   * untouched.
   */
  block(text: string): void {
    this.blocked.add(text);
    for (const socket of this.sent.keys()) this.dropIfBlocked(socket);
  }

  unblock(text: string): void {
    this.blocked.delete(text);
  }

  private dropIfBlocked(client: Socket): void {
    const sent = this.sent.get(client) ?? '';
    for (const text of this.blocked) if (sent.includes(text)) return void client.destroy();
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
