/**
 * The lab can see each failure mode, so that a 0 for our strategy means something: a planted
 * stale key is counted (stale key, failed checks), cache-aside and delete-first with the race
 * forced leave keys stale for good, and write-behind with an app crash loses acknowledged writes.
 * Then ours (outbox + relay + guarded reads) under every fault but the replica: no key left stale
 * and no failed check at the longer horizon, while its relay really was killed and restarted and
 * Redis really failed and restarted. One file, so that these runs take turns on the test servers.
 */
import { describe, expect, it } from 'vitest';
import { itemKey, nextItemValue, updateItem } from '../../src/lab/item-table.js';
import { checkAt } from '../../src/lab/results.js';
import { runLab } from '../../src/lab/run-lab.js';
import { cacheAside, deleteFirst } from '../../src/lab/strategies/invalidation.js';
import { ours } from '../../src/lab/strategies/ours.js';
import { writeBehind } from '../../src/lab/strategies/write-behind.js';
import type { StrategyDefinition } from '../../src/lab/strategy.js';
import { shortRun } from './lab-run.js';

/**
 * Cache-aside whose first write of item 1 plants version 1 back into the cache after its DEL,
 * and which never writes item 1 again: exactly one key is stale, from that write on.
 */
const planted: StrategyDefinition = {
  name: 'planted',
  steps: 'cache-aside, with one stale entry planted after the first write of item 1',
  failureMode: 'a test double',
  async create(ctx) {
    const base = await cacheAside.create(ctx);
    let plantedOnce = false;
    return {
      ...base,
      async write(id) {
        if (id === 1 && plantedOnce) return base.write(2);
        if (id !== 1) return base.write(id);
        plantedOnce = true;
        const value = nextItemValue(1);
        ctx.committed(1, await updateItem(ctx.writePool, ctx.name, value), value.name);
        await ctx.redis.set(itemKey(ctx.keyPrefix, 1), JSON.stringify({ v: '1', d: value }), 'PX', 600_000);
      },
      // Readers of item 1 would see the planted entry and count stale reads; they read item 3 instead.
      read: (id) => base.read(id === 1 ? 3 : id),
    };
  },
};

describe('the lab sees each failure mode', () => {
  it('counts a planted stale key as stale for good and as failed checks at every horizon', async () => {
    const result = await runLab(shortRun([planted], [], { hotKeys: 1, hotShare: 0.5, fillDelayMs: 0 }));
    const r = result.strategies[0]!;
    expect(r.staleForeverKeys).toContain(1);
    expect(checkAt(r, 500)!.inconsistent).toBeGreaterThanOrEqual(1);
    expect(checkAt(r, 2000)!.inconsistent).toBeGreaterThanOrEqual(1);
    expect(r.settled).toBe(true);
  });

  // Readers hold their database reads for up to 1.5 s before filling, far longer than a write
  // takes even on a loaded machine: some fill of an older read is in flight when a key's last
  // write commits, and lands after its DEL.
  it('shows cache-aside and delete-first leaving keys stale for good when readers are slow', async () => {
    const result = await runLab(shortRun([cacheAside, deleteFirst], [], {
      keys: 3, hotKeys: 3, hotShare: 1, readers: 6, fillDelayMs: 1500, writePauseMs: 15, readPauseMs: 1,
    }));
    for (const r of result.strategies) {
      expect(r.staleForever, r.name).toBeGreaterThan(0);
      expect(r.staleReads, r.name).toBeGreaterThan(0);
      expect(checkAt(r, 2000)!.inconsistent, r.name).toBeGreaterThan(0);
    }
  });

  it('shows write-behind losing acknowledged writes when the app crashes', async () => {
    const result = await runLab(shortRun([writeBehind({ flushMs: 3000 })], ['app-crash'], {
      keys: 200, hotKeys: 200, hotShare: 1, writePauseMs: 8, readers: 1, durationMs: 4000,
    }));
    const r = result.strategies[0]!;
    expect(result.faults.map((f) => f.kind)).toEqual(['app-crash', 'app-crash']);
    expect(r.diedWrites).toBeGreaterThan(0);
    expect(r.lostWrites).toBeGreaterThan(0);
  });
});

describe('ours under the fault schedule', () => {
  it('leaves no key stale and fails no check 5 s after a write', async () => {
    const result = await runLab(shortRun([ours], ['app-crash', 'redis-errors', 'redis-restart', 'worker-crash'], {
      durationMs: 8000, horizonsMs: [1000, 5000], fillDelayMs: 50,
    }));
    expect(result.faults.map((f) => f.kind)).toEqual(['app-crash', 'redis-errors', 'redis-restart', 'worker-crash', 'app-crash']);
    const r = result.strategies[0]!;
    expect(r.settled).toBe(true);
    // Counts depend on the machine's load; that there were writes, reads and checks does not.
    expect(r.writes).toBeGreaterThan(0);
    expect(r.reads).toBeGreaterThan(0);
    expect(r.staleForever).toBe(0);
    expect(checkAt(r, 5000)).toMatchObject({ inconsistent: 0 });
    expect(checkAt(r, 5000)!.checks).toBe(r.writes);
  });
});
