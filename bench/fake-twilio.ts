import { randomBytes } from 'node:crypto';
import net from 'node:net';

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * An instant stand-in for Twilio's REST API on loopback, for benchmarks: it accepts everything at
 * once. In production the provider runs on someone else's machines; here it shares the benchmark's
 * two cores, so it is a bare HTTP/1.1 responder on a TCP socket (keep-alive, Content-Length bodies)
 * rather than node:http, whose parsing and objects cost more CPU than the send being measured.
 */
export async function startInstantTwilio(): Promise<{ baseUrl: string; count: () => number; stop: () => Promise<void> }> {
  let count = 0;
  // A sid per message without a random draw per message: this process also runs the API and the load.
  const prefix = `SM${randomBytes(8).toString('hex')}`;
  const sockets = new Set<net.Socket>();
  const answer = () => {
    const body = `{"sid":"${prefix}${(++count).toString(16).padStart(16, '0')}","status":"queued"}`;
    return `HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nKeep-Alive: timeout=60\r\n\r\n${body}`;
  };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let replies = '';
      for (;;) {
        const end = pending.indexOf(HEADER_END);
        if (end < 0) break;
        const length = Number(/content-length:\s*(\d+)/i.exec(pending.subarray(0, end).toString('latin1'))?.[1] ?? 0);
        const total = end + HEADER_END.length + length;
        if (pending.length < total) break;
        pending = pending.subarray(total);
        replies += answer();
      }
      if (replies) socket.write(replies);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    count: () => count,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
