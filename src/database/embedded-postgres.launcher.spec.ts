import { describe, expect, it } from 'vitest';
import { importEmbeddedPostgres } from './embedded-postgres.launcher.js';

describe('importEmbeddedPostgres', () => {
  it('leaves no exit-code-overriding or signal listeners behind', async () => {
    const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'beforeExit', 'message', 'exit'] as const;
    const before = events.map((event) => process.listenerCount(event));
    await importEmbeddedPostgres();
    expect(events.map((event) => process.listenerCount(event))).toEqual(before);
  });
});
