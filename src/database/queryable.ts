/**
 * A connection or a transaction's EntityManager: anything that runs SQL. What it answers is unknown
 * until the caller names the rows (`const rows: Row[] = await db.query(...)`), as the camelCase shape
 * its SQL aliases give them; TypeORM's own signature would answer `any`. It stays `Promise<T>`, not
 * `Promise<T[]>`: TypeORM answers an UPDATE or DELETE with `[rows, affectedCount]`, which a `T[]` would
 * misdescribe (`returning` below takes that apart), and a row-typed annotation already infers the array.
 */
// Whatever implements it takes a NamedStatement as pg's own clients do (TypeORM passes it through).
export interface Queryable {
  query<T = unknown>(sql: string | NamedStatement, parameters?: unknown[]): Promise<T>;
}

/**
 * A statement pg sends by name: PostgreSQL parses it once per connection and, once it has seen a few
 * runs, may keep one plan for it instead of planning every run. TypeORM hands it to pg unchanged.
 */
export interface NamedStatement {
  name: string;
  text: string;
}

/**
 * Up to this many rows in a statement's arrays, a plan made without seeing their length fits; larger
 * batches are planned for their own size each time.
 */
export const NAMED_STATEMENT_MAX_ROWS = 32;

/** `text` by name when its arrays hold few rows (see NAMED_STATEMENT_MAX_ROWS), else as a one-off. */
export function namedWhenSmall(name: string, text: string, rows: number): string | NamedStatement {
  return rows <= NAMED_STATEMENT_MAX_ROWS ? { name, text } : text;
}

/**
 * TypeORM answers UPDATE and DELETE with `[rows, affectedCount]` but INSERT and SELECT with the
 * rows alone; this runs a statement with RETURNING and always gives the rows.
 */
export async function returning<T>(db: Queryable, sql: string, parameters: unknown[] = []): Promise<T[]> {
  const result: unknown = await db.query(sql, parameters);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
