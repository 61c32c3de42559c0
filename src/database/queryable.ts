/** A connection or a transaction's EntityManager: anything that runs SQL. */
export interface Queryable {
  query<T = any>(sql: string, parameters?: unknown[]): Promise<T>; // eslint-disable-line @typescript-eslint/no-explicit-any
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
