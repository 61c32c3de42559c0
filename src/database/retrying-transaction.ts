import { setTimeout as delay } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { retryableConflict } from '../common/database-errors.js';

/** Runs of one transaction before a deadlock or serialization failure reaches the caller. */
export const TRANSACTION_ATTEMPTS = 4;
/** The n-th rerun waits a random 0…BASE·2^n ms: long enough for the winner to commit, short for a request. */
const BACKOFF_BASE_MS = 15;

const logger = new Logger('RetryingTransaction');

/**
 * Runs `work` in one transaction. When PostgreSQL rolls it back to break a deadlock (40P01) or a
 * serialization conflict (40001), nothing it did remains, so it runs again, up to `attempts` runs
 * in all, after a short jittered pause that lets the other side finish. Any other error, and the
 * last conflict, reaches the caller unchanged. `work` must keep its effects inside the transaction.
 */
export async function retryingTransaction<T>(
  db: DataSource,
  work: (tx: EntityManager) => Promise<T>,
  attempts = TRANSACTION_ATTEMPTS,
): Promise<T> {
  return retrying(db, work, attempts);
}

/**
 * `retryingTransaction`, with `opening` (a statement without parameters) sent in the same message as
 * the BEGIN (simple query protocol): a transaction that always starts with the same lock saves a
 * round trip.
 */
export async function retryingTransactionOpenedWith<T>(
  db: DataSource,
  opening: string,
  work: (tx: EntityManager) => Promise<T>,
): Promise<T> {
  return retrying(db, work, TRANSACTION_ATTEMPTS, opening);
}

async function retrying<T>(db: DataSource, work: (tx: EntityManager) => Promise<T>, attempts: number, opening?: string): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await (opening === undefined ? db.transaction(work) : transactionOpenedWith(db, opening, work));
    } catch (error) {
      const code = retryableConflict(error);
      if (!code || attempt >= attempts) throw error;
      logger.warn({ code, attempt }, 'transaction rolled back by a concurrency conflict; running it again');
      await delay(Math.random() * BACKOFF_BASE_MS * 2 ** attempt);
    }
  }
}

/** `db.transaction`, with `opening` sent in the same message as the BEGIN. */
async function transactionOpenedWith<T>(db: DataSource, opening: string, work: (tx: EntityManager) => Promise<T>): Promise<T> {
  const runner = db.createQueryRunner();
  try {
    try {
      // No parameters, so pg sends one simple Query message: both statements run in order, and the
      // transaction stays open for `work`.
      await runner.query(`START TRANSACTION; ${opening}`);
      const result = await work(runner.manager);
      await runner.query('COMMIT');
      return result;
    } catch (error) {
      // The original error is the one that matters, as with db.transaction.
      await runner.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  } finally {
    await runner.release();
  }
}
