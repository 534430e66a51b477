/**
 * Our strategy (outbox + relay + guarded reads) under every fault but the replica: no key left
 * stale and no failed check at the longer horizon, while its relay really was killed and
 * restarted and Redis really failed and restarted.
 */
import { describe, expect, it } from 'vitest';
import { checkAt } from '../../src/lab/results.js';
import { runLab } from '../../src/lab/run-lab.js';
import { ours } from '../../src/lab/strategies/ours.js';
import { shortRun } from './lab-run.js';

describe('ours under the fault schedule', () => {
  it('leaves no key stale and fails no check 3 s after a write', async () => {
    const result = await runLab(shortRun([ours], ['app-crash', 'redis-errors', 'redis-restart', 'worker-crash'], {
      durationMs: 8000, horizonsMs: [1000, 3000], fillDelayMs: 50,
    }));
    expect(result.faults.map((f) => f.kind)).toEqual(['app-crash', 'redis-errors', 'redis-restart', 'worker-crash', 'app-crash']);
    const r = result.strategies[0]!;
    expect(r.settled).toBe(true);
    expect(r.writes).toBeGreaterThan(50);
    expect(r.reads).toBeGreaterThan(100);
    // The faults did hit it: reads failed while Redis was unreachable.
    expect(r.readErrors).toBeGreaterThan(0);
    expect(r.staleForever).toBe(0);
    expect(checkAt(r, 3000)).toMatchObject({ inconsistent: 0 });
    expect(checkAt(r, 3000)!.checks).toBeGreaterThan(50);
  });
});
