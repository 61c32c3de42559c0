import 'typeorm';
import type { NamedStatement } from './queryable.js';

/**
 * TypeORM types what `query` answers as `any` unless told otherwise, so a caller that forgets to name
 * its rows would get no checking at all. These overloads come first: an unnamed answer is `unknown`,
 * and every caller says which camelCase rows it reads (`const rows: Row[] = await db.query(...)`).
 */
declare module 'typeorm' {
  interface DataSource {
    query<T = unknown>(query: string | NamedStatement, parameters?: unknown[]): Promise<T>;
  }
  interface EntityManager {
    query<T = unknown>(query: string | NamedStatement, parameters?: unknown[]): Promise<T>;
  }
}
