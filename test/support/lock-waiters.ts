import type pg from 'pg';

/**
 * Resolves once at least `count` backends of this database wait on a lock: how a test knows that a
 * request it started is now blocked behind a lock the test holds (no sleeping). Ask through the pool,
 * not the connection holding the lock: pg_stat_activity is read once per transaction.
 */
export async function lockWaiters(db: pg.Pool, count: number): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`,
    );
    if (rows[0].n >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const { rows } = await db.query(
    `SELECT state, wait_event_type, wait_event, left(query, 120) AS query FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid()`,
  );
  throw new Error(`fewer than ${count} backends ever waited on a lock: ${JSON.stringify(rows)}`);
}
