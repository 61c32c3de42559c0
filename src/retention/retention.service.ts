import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { every, stopEvery } from '../common/intervals.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { runRetention, type RetentionRun } from './retention.js';

const HOUR_MS = 60 * 60 * 1000;
/** Workers look hourly whether the day's run is due; whichever looks first after it is, runs it. */
const CHECK_MS = HOUR_MS;
/** Due once no run was audited within this: a day, less one check, so hourly looks do not drift it later each day. */
const RUN_EVERY_MS = 24 * HOUR_MS - CHECK_MS;

/** The daily retention run, in the worker role: one process runs it (advisory lock), the rest skip. */
@Injectable()
export class RetentionService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RetentionService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly scheduler: SchedulerRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (this.config.role === 'api') return;
    every(this.scheduler, 'retention', CHECK_MS, () => this.runIfDue(), this.logger);
  }

  onModuleDestroy(): void {
    stopEvery(this.scheduler, 'retention');
  }

  async runIfDue(): Promise<RetentionRun> {
    const run = await runRetention(this.db, this.config.retention, this.clock, { onlyIfNotRunWithinMs: RUN_EVERY_MS });
    if (run.ran) this.logger.log({ counts: run.counts }, 'retention run');
    return run;
  }
}
