interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
  /** Re-run after its group failed: goes in a transaction of its own. */
  alone?: boolean;
}

interface Lane<T, R> {
  inFlight: number;
  waiting: Waiting<T, R>[];
}

export interface GroupCommitOptions<T, R> {
  /** Transactions one key may have running at once; requests beyond wait and then go together. */
  maxInFlight: number;
  /**
   * While the key has a transaction running, another starts only for a group at least this heavy
   * (or a failed group's re-run); lighter ones wait for a slot with nothing running. 1 by default: any
   * request starts while a slot is free.
   */
  minOverlapWeight?: number;
  /** A group stops growing at this weight (a request heavier than this goes alone). */
  maxWeight: number;
  weight: (item: T) => number;
  /** Runs several requests in one transaction: all commit together, or it throws and none did. */
  runGroup: (items: T[]) => Promise<R[]>;
  /** Runs one request in its own transaction. */
  runAlone: (item: T) => Promise<R>;
}

/**
 * Group commit for many small requests from one upstream system. A request starts at once while
 * its key has fewer than `maxInFlight` transactions running (and, beside a running one, enough
 * waits to make `minOverlapWeight`); otherwise it waits, and everything
 * that waited goes in the next transaction together, so a busy feed pays one transaction's round
 * trips for several events instead of one each. A quiet feed waits for nothing. When a group
 * fails, each of its requests runs again alone, so an error reaches only the request it belongs to
 * and a good request never fails because of a neighbour; those re-runs queue first in the lane and
 * take its slots like any request, so a failed group never runs more than `maxInFlight` at once.
 */
export class GroupCommit<T, R> {
  private readonly lanes = new Map<string, Lane<T, R>>();

  constructor(private readonly options: GroupCommitOptions<T, R>) {}

  submit(key: string, item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let lane = this.lanes.get(key);
      if (!lane) this.lanes.set(key, (lane = { inFlight: 0, waiting: [] }));
      lane.waiting.push({ item, resolve, reject });
      this.pump(key, lane);
    });
  }

  private pump(key: string, lane: Lane<T, R>): void {
    while (lane.inFlight < this.options.maxInFlight && lane.waiting.length && this.mayStart(lane)) {
      const group = this.take(lane);
      lane.inFlight++;
      void this.run(lane, group).finally(() => {
        lane.inFlight--;
        if (!lane.inFlight && !lane.waiting.length) this.lanes.delete(key);
        else this.pump(key, lane);
      });
    }
  }

  private mayStart(lane: Lane<T, R>): boolean {
    const least = this.options.minOverlapWeight ?? 1;
    if (!lane.inFlight || least <= 1 || lane.waiting[0].alone) return true;
    let weight = 0;
    for (const waiting of lane.waiting) {
      if (waiting.alone || (weight += this.options.weight(waiting.item)) >= least) return true;
    }
    return false;
  }

  private take(lane: Lane<T, R>): Waiting<T, R>[] {
    const group = [lane.waiting.shift()!];
    if (group[0].alone) return group;
    let weight = this.options.weight(group[0].item);
    while (lane.waiting.length && !lane.waiting[0].alone && weight + this.options.weight(lane.waiting[0].item) <= this.options.maxWeight) {
      const next = lane.waiting.shift()!;
      weight += this.options.weight(next.item);
      group.push(next);
    }
    return group;
  }

  private async run(lane: Lane<T, R>, group: Waiting<T, R>[]): Promise<void> {
    if (group.length === 1) return this.options.runAlone(group[0].item).then(group[0].resolve, group[0].reject);
    try {
      const results = await this.options.runGroup(group.map((waiting) => waiting.item));
      group.forEach((waiting, index) => waiting.resolve(results[index]));
    } catch {
      // Each request again alone, ahead of newer ones, so the error finds its owner.
      lane.waiting.unshift(...group.map((waiting) => ({ ...waiting, alone: true })));
    }
  }
}
