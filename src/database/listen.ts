import pg from 'pg';

/**
 * A connection of its own that LISTENs on `channel` and hands every payload to `onMessage`. If it
 * cannot connect, it is closed and the error thrown; `onLost` hears errors after that.
 */
export async function listenOn(
  url: string | undefined,
  channel: string,
  onMessage: (payload: string) => void,
  onLost: (error: Error) => void,
): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('notification', (message) => {
    if (message.channel === channel) onMessage(message.payload ?? '');
  });
  client.on('error', onLost);
  try {
    await client.connect();
    await client.query(`LISTEN ${channel}`);
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}
