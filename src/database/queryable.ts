/**
 * A connection or a transaction's EntityManager: anything that runs SQL. What it answers is unknown
 * until the caller names the rows (`const rows: Row[] = await db.query(...)`), as the camelCase shape
 * its SQL aliases give them; TypeORM's own signature would answer `any`. It stays `Promise<T>`, not
 * `Promise<T[]>`: TypeORM answers an UPDATE or DELETE with `[rows, affectedCount]`, which a `T[]` would
 * misdescribe (`returning` below takes that apart), and a row-typed annotation already infers the array.
 */
export interface Queryable {
  query<T = unknown>(sql: string, parameters?: unknown[]): Promise<T>;
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
