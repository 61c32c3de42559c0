import pg from 'pg';

/** The settings that load pg_stat_statements into a cluster (it must be preloaded at start). */
export const STATEMENT_PROFILE_SETTINGS = {
  shared_preload_libraries: 'pg_stat_statements',
  'pg_stat_statements.track': 'top',
  'pg_stat_statements.track_planning': 'on',
  'pg_stat_statements.max': '5000',
};

interface Row {
  query: string;
  calls: number;
  exec_ms: number;
  plan_ms: number;
  rows: number;
}

/**
 * PostgreSQL's own account of a phase, per statement: calls, execution and planning time, rows,
 * from pg_stat_statements in every database of the cluster (the app's pool, its workers and
 * pollers alike). Time is the server's wall time inside the statement, lock waits included.
 */
export class StatementProfile {
  private constructor(private readonly url: string) {}

  static async install(url: string): Promise<StatementProfile> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await client.end();
    return new StatementProfile(url);
  }

  async reset(): Promise<void> {
    await this.run('SELECT pg_stat_statements_reset()');
  }

  /** Prints the statements seen since `reset`, most total time first, per event of the phase. */
  async print(phase: string, events: number): Promise<void> {
    const rows = await this.run<Row>(
      `SELECT regexp_replace(query, '\\s+', ' ', 'g') AS query, calls::int, total_exec_time AS exec_ms, total_plan_time AS plan_ms,
              rows::int
       FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC`,
    );
    const total = rows.reduce((sum, row) => sum + row.exec_ms + row.plan_ms, 0);
    const calls = rows.reduce((sum, row) => sum + row.calls, 0);
    const fixed = (n: number, digits = 3) => n.toFixed(digits).padStart(9);
    console.log(`\n${phase}: pg_stat_statements, ${events} events, ${calls} calls, ${total.toFixed(0)} ms in statements`);
    console.log(
      `${'calls/ev'.padStart(9)}${'exec ms/ev'.padStart(11)}${'plan ms/ev'.padStart(11)}${'mean ms'.padStart(9)}${'rows/call'.padStart(10)}  statement`,
    );
    for (const row of rows) {
      if (row.exec_ms + row.plan_ms < total / 500 && row.calls < events / 20) continue;
      console.log(
        `${fixed(row.calls / events)}${fixed(row.exec_ms / events, 4).padStart(11)}${fixed(row.plan_ms / events, 4).padStart(11)}` +
          `${fixed((row.exec_ms + row.plan_ms) / Math.max(1, row.calls))}${(row.rows / Math.max(1, row.calls)).toFixed(1).padStart(10)}  ${row.query.slice(0, 110)}`,
      );
    }
  }

  private async run<T>(sql: string): Promise<T[]> {
    const client = new pg.Client({ connectionString: this.url });
    await client.connect();
    try {
      return (await client.query(sql)).rows as T[];
    } finally {
      await client.end();
    }
  }
}
