import { randomBytes } from 'node:crypto';
import http from 'node:http';

/** An instant stand-in for Twilio's REST API on loopback, for benchmarks: it accepts everything at once. */
export async function startInstantTwilio(): Promise<{ baseUrl: string; count: () => number; stop: () => Promise<void> }> {
  let count = 0;
  // A sid per message without a random draw per message: this process also runs the API and the load.
  const prefix = randomBytes(8).toString('hex');
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count++;
      res
        .writeHead(201, { 'content-type': 'application/json' })
        .end(JSON.stringify({ sid: `SM${prefix}${count.toString(16).padStart(16, '0')}`, status: 'queued' }));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    count: () => count,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
