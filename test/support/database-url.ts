/** The same server URL, pointing at another database. */
export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** The same database over TCP: the embedded cluster's URLs name its Unix socket, which a TCP proxy cannot stand in for. */
export function tcpUrl(url: string): string {
  const tcp = new URL(url);
  tcp.searchParams.delete('host');
  return tcp.toString();
}
