import { Clock } from '../../src/common/clock.js';

const made: ManualClock[] = [];

/**
 * "Now" as the app under test sees it: the test file's manual clock if it made one, else real time.
 * Helpers that stamp requests (events' occurredAt, webhook timestamps) use it, so a test pinned to a
 * fixed date keeps passing on any later day.
 */
export function testNow(): Date {
  return made.at(-1)?.now() ?? new Date();
}

/** A clock the test moves by hand, so expiry and staleness need no sleeping. */
export class ManualClock extends Clock {
  constructor(private current = new Date()) {
    super();
    made.push(this);
  }

  now(): Date {
    return new Date(this.current);
  }

  set(at: Date): void {
    this.current = new Date(at);
  }

  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}
