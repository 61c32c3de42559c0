import type { Logger } from '@nestjs/common';
import type { SchedulerRegistry } from '@nestjs/schedule';
import { loggableError } from './database-errors.js';

/**
 * A background task every `ms`, registered by name so shutdown can stop it. A failed run is logged
 * and the next one tries again: background work never takes the process down.
 */
export function every(scheduler: SchedulerRegistry, name: string, ms: number, task: () => Promise<unknown>, logger: Logger): void {
  const timer = setInterval(() => {
    task().catch((error: unknown) => logger.warn({ err: loggableError(error) }, `${name} failed; will retry`));
  }, ms);
  scheduler.addInterval(name, timer);
}

export function stopEvery(scheduler: SchedulerRegistry, ...names: string[]): void {
  for (const name of names) if (scheduler.doesExist('interval', name)) scheduler.deleteInterval(name);
}
