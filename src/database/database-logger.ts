import { Logger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';
import { loggableError, statementName } from '../common/database-errors.js';

/**
 * TypeORM's own log lines, through the app's logger and without parameters: its stock loggers print
 * a failed query with every value bound to it (names, dates of birth, A-numbers, staff emails).
 * A failure is logged by SQLSTATE and statement name; whoever catches it logs it again with context.
 */
export class DatabaseLogger implements TypeOrmLogger {
  private readonly logger = new Logger('Database');

  logQuery(): void {}

  logQueryError(error: string | Error, query: string): void {
    this.logger.debug({ err: loggableError(typeof error === 'string' ? { name: 'QueryFailedError' } : error, query) }, 'query failed');
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ statement: statementName(query), ms: time }, 'slow query');
  }

  logSchemaBuild(): void {}

  logMigration(message: string): void {
    this.logger.debug(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
    else this.logger.debug(String(message));
  }
}
