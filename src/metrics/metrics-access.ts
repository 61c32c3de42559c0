import { createHash, timingSafeEqual } from 'node:crypto';
import { DomainError } from '../common/problem/domain-error.js';

/** What the access rule needs from a request: its Authorization header and the socket's own peer address. */
export interface MetricsCaller {
  authorization: string | undefined;
  /** The TCP peer (`socket.remoteAddress`), never an address a proxy header claims. */
  remoteAddress: string | undefined;
  /** Whatever Forwarded, X-Forwarded-For or X-Real-IP the request carries. */
  forwarded?: string[];
}

/**
 * With METRICS_TOKEN set, every scrape must present it as a bearer token, from anywhere. Unset,
 * only a scraper on this machine may read /metrics: the counts tell how busy each feed is and how
 * far alerts lag, which is not for the internet. A proxy on the same host also connects from
 * loopback, so a loopback request that carries a proxy's forwarding header is someone else's and
 * is refused; the header's address is never trusted either way.
 */
export function checkMetricsAccess(token: string | undefined, caller: MetricsCaller): void {
  if (token === undefined) {
    if (isLoopback(caller.remoteAddress) && !caller.forwarded?.length) return;
    throw new DomainError(
      'forbidden',
      'METRICS_LOOPBACK_ONLY',
      'Metrics are served only to this machine, not through a proxy, unless METRICS_TOKEN is set.',
    );
  }
  const presented = /^Bearer\s+(\S+)\s*$/i.exec(caller.authorization ?? '')?.[1];
  if (presented === undefined || !sameSecret(presented, token)) {
    throw new DomainError('unauthorized', 'METRICS_TOKEN_INVALID', 'A valid metrics bearer token is required.');
  }
}

/** Compares digests, so the time taken tells nothing about the token's length or its first differing byte. */
function sameSecret(presented: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.replace(/^::ffff:/i, '');
  return plain === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(plain);
}
