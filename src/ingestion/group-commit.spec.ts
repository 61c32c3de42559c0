import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.js';

interface Gate {
  release: () => void;
  opened: Promise<void>;
}

function gate(): Gate {
  let release = () => {};
  const opened = new Promise<void>((resolve) => (release = resolve));
  return { release, opened };
}

/** A fake transaction runner that records which items ran together and can be held open. */
function recorder(options: {
  maxInFlight: number;
  maxWeight?: number;
  minOverlapWeight?: number;
  failWhen?: (items: string[]) => boolean;
}) {
  const runs: string[][] = [];
  const holds: Gate[] = [];
  const concurrency = { now: 0, max: 0 };
  const run = async (items: string[]) => {
    runs.push(items);
    concurrency.max = Math.max(concurrency.max, ++concurrency.now);
    const hold = gate();
    holds.push(hold);
    try {
      await hold.opened;
      if (options.failWhen?.(items)) throw new Error(`failed: ${items.join(',')}`);
      return items.map((item) => `done ${item}`);
    } finally {
      concurrency.now--;
    }
  };
  const commit = new GroupCommit<string, string>({
    maxInFlight: options.maxInFlight,
    maxWeight: options.maxWeight ?? 100,
    minOverlapWeight: options.minOverlapWeight,
    weight: (item) => (item.startsWith('big') ? 50 : 1),
    runGroup: run,
    runAlone: async (item) => (await run([item]))[0],
  });
  const settle = async () => {
    for (let i = 0; i < 20; i++) {
      holds.forEach((hold) => hold.release());
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { commit, runs, settle, concurrency };
}

describe('GroupCommit', () => {
  it('starts a request at once while the key has a free slot', () => {
    const { commit, runs } = recorder({ maxInFlight: 2 });
    void commit.submit('s', 'a');
    void commit.submit('s', 'b');
    void commit.submit('other', 'c');
    expect(runs).toEqual([['a'], ['b'], ['c']]);
  });

  it('sends what waited for a busy key in one group, and answers each request with its own result', async () => {
    const { commit, runs, settle } = recorder({ maxInFlight: 1 });
    const answers = ['a', 'b', 'c', 'd'].map((item) => commit.submit('s', item));
    expect(runs).toEqual([['a']]);
    await settle();
    expect(runs).toEqual([['a'], ['b', 'c', 'd']]);
    expect(await Promise.all(answers)).toEqual(['done a', 'done b', 'done c', 'done d']);
  });

  it('stops a group at the weight limit', async () => {
    const { commit, runs, settle } = recorder({ maxInFlight: 1, maxWeight: 60 });
    const answers = ['a', 'big1', 'b', 'big2', 'c'].map((item) => commit.submit('s', item));
    await settle();
    await Promise.all(answers);
    expect(runs).toEqual([['a'], ['big1', 'b'], ['big2', 'c']]);
  });

  it('runs a failed group again one request at a time, so only the bad request fails', async () => {
    const { commit, runs, settle } = recorder({ maxInFlight: 1, failWhen: (items) => items.includes('bad') });
    const answers = ['a', 'b', 'bad', 'c'].map((item) => commit.submit('s', item).catch((error: Error) => error.message));
    await settle();
    expect(await Promise.all(answers)).toEqual(['done a', 'done b', 'failed: bad', 'done c']);
    expect(runs).toEqual([['a'], ['b', 'bad', 'c'], ['b'], ['bad'], ['c']]);
  });

  it('#11.3 a failed group re-runs its requests one by one within maxInFlight', async () => {
    const { commit, runs, settle, concurrency } = recorder({ maxInFlight: 2, failWhen: (items) => items.includes('bad') });
    const answers = ['a', 'b', 'c', 'd', 'bad', 'e', 'f'].map((item) => commit.submit('s', item).catch((error: Error) => error.message));
    await settle();
    expect(await Promise.all(answers)).toEqual(['done a', 'done b', 'done c', 'done d', 'failed: bad', 'done e', 'done f']);
    expect(runs.slice(0, 3)).toEqual([['a'], ['b'], ['c', 'd', 'bad', 'e', 'f']]);
    expect(runs.slice(3).flat().sort()).toEqual(['bad', 'c', 'd', 'e', 'f']);
    expect(runs.slice(3).every((items) => items.length === 1)).toBe(true);
    expect(concurrency.max).toBe(2);
  });

  it('#12 while a transaction runs, a second starts only for a group of minOverlapWeight; a lone request waits for the first to end', async () => {
    const { commit, runs, settle, concurrency } = recorder({ maxInFlight: 2, minOverlapWeight: 3 });
    const first = ['a', 'b'].map((item) => commit.submit('s', item));
    expect(runs).toEqual([['a']]);
    const more = ['c', 'd'].map((item) => commit.submit('s', item));
    // b, c, d weigh 3: they start beside a.
    expect(runs).toEqual([['a'], ['b', 'c', 'd']]);
    await settle();
    expect(await Promise.all([...first, ...more])).toEqual(['done a', 'done b', 'done c', 'done d']);
    expect(concurrency.max).toBe(2);

    // Nothing running: a lone request starts at once; the next waits for it, however long, then goes.
    const lone = commit.submit('s', 'e');
    const next = commit.submit('s', 'f');
    expect(runs.slice(2)).toEqual([['e']]);
    await settle();
    expect(await Promise.all([lone, next])).toEqual(['done e', 'done f']);
    expect(runs.slice(2)).toEqual([['e'], ['f']]);
  });

  it('#12 a failed group re-runs its requests one by one even when they weigh less than minOverlapWeight', async () => {
    const { commit, runs, settle } = recorder({ maxInFlight: 2, minOverlapWeight: 3, failWhen: (items) => items.includes('bad') });
    const answers = ['a', 'b', 'bad', 'c', 'd'].map((item) => commit.submit('s', item).catch((error: Error) => error.message));
    await settle();
    expect(await Promise.all(answers)).toEqual(['done a', 'done b', 'failed: bad', 'done c', 'done d']);
    expect(runs.slice(0, 2)).toEqual([['a'], ['b', 'bad', 'c']]);
    expect(runs.slice(2).flat().sort()).toEqual(['b', 'bad', 'c', 'd']);
  });
});
