/** A connection or a transaction's EntityManager: anything that runs SQL. */
export interface Queryable {
  query<T = any>(sql: string, parameters?: unknown[]): Promise<T>; // eslint-disable-line @typescript-eslint/no-explicit-any
}
