import pg from 'pg';

/**
 * Counts the statements every pg client in this process sends (the app's pool, its LISTEN client
 * and the worker's included), by the statement's opening words. It wraps `pg.Client.prototype.query`,
 * so it sees each round trip TypeORM makes; installed only when a benchmark asks for it.
 */
export class StatementCounter {
  private readonly counts = new Map<string, number>();
  private counting = false;

  static install(): StatementCounter {
    const counter = new StatementCounter();
    const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
    const query = prototype.query;
    prototype.query = function (this: unknown, ...args: unknown[]) {
      if (counter.counting) counter.note(args[0]);
      return query.apply(this, args);
    };
    return counter;
  }

  start(): void {
    this.counts.clear();
    this.counting = true;
  }

  /** The statements seen since `start`, most frequent first. */
  stop(): { statement: string; count: number }[] {
    this.counting = false;
    return [...this.counts.entries()].map(([statement, count]) => ({ statement, count })).sort((a, b) => b.count - a.count);
  }

  private note(config: unknown): void {
    const text = typeof config === 'string' ? config : ((config as { text?: string } | null)?.text ?? '');
    const label = text
      .replace(/--[^\n]*/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 90);
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
  }
}
