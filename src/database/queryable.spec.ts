import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint, type Linter } from 'eslint';
import type { DataSource, EntityManager } from 'typeorm';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Queryable } from './queryable.js';

const NO_UNSAFE = ['assignment', 'member-access', 'argument', 'return', 'call'].map((rule) => `@typescript-eslint/no-unsafe-${rule}`);

function severity(entry: Linter.RuleEntry | undefined): number {
  const level = Array.isArray(entry) ? entry[0] : entry;
  return level === 'error' ? 2 : level === 'warn' ? 1 : level === 'off' || level === undefined ? 0 : level;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.spec.ts'))
    .map((name) => join(dir, name));
}

describe('#11.22 typed rows', () => {
  // Compiled by `tsc --noEmit` in `npm test`, never called: an `any` answer fails the type check.
  async function unnamedRowsAreUnknown(db: Queryable, dataSource: DataSource, tx: EntityManager): Promise<void> {
    expectTypeOf(await db.query('SELECT 1')).toBeUnknown();
    expectTypeOf(await dataSource.query('SELECT 1')).toBeUnknown();
    expectTypeOf(await tx.query('SELECT 1')).toBeUnknown();
    const named: { personId: string }[] = await dataSource.query(`SELECT id AS "personId" FROM person`);
    expectTypeOf(named).toEqualTypeOf<{ personId: string }[]>();
  }

  it('#11.22 a query whose rows the caller does not name answers unknown, never any', () => {
    expect(unnamedRowsAreUnknown).toBeTypeOf('function');
  });

  it('#11.22 the five no-unsafe lint rules are on for src and bench, and no inline comment turns one off without saying why', async () => {
    const eslint = new ESLint({ cwd: process.cwd() });
    for (const file of ['src/database/queryable.ts', 'src/registrations/registrations.service.ts', 'bench/delivery.bench.ts']) {
      const config = (await eslint.calculateConfigForFile(file)) as Linter.Config;
      for (const rule of NO_UNSAFE) expect(severity(config.rules?.[rule]), `${rule} in ${file}`).toBe(2);
    }
    const unexplained = [...sources('src'), ...sources('bench')].flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => /eslint-disable/.test(line) && /no-unsafe-/.test(line) && !/ -- \S/.test(line))
        .map((line) => `${file}: ${line.trim()}`),
    );
    expect(unexplained).toEqual([]);
  });
});
