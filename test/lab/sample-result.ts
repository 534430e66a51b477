/** A hand-made LabResult for the output tests (table, report, browser rendering). */
import type { LabResult, StrategyResult } from '../../src/lab/results.js';

function strategy(name: string, over: Partial<StrategyResult>): StrategyResult {
  const timeline = Array.from({ length: 40 }, (_, i) => ({ reads: 500, staleReads: (i * 7) % 5, maxStaleAgeMs: ((i * 37) % 11) * 90 }));
  return {
    name, steps: `${name} steps`, failureMode: `${name} fails when it fails`, ours: false,
    writes: 1800, diedWrites: 6, writeErrors: 20, reads: 19_000, hitRate: 0.9, dbReadsPerSecond: 12.5, readErrors: 40,
    backgroundErrors: 0, staleReads: 250, staleAgeMs: { p50: 40, p99: 900, max: 4200 }, staleForever: 3, staleForeverKeys: [4, 9, 30],
    checks: [
      { horizonMs: 1000, checks: 1000, inconsistent: 40, nines: 1.4, ninesLowerBound: false },
      { horizonMs: 10_000, checks: 1000, inconsistent: 12, nines: 1.92, ninesLowerBound: false },
    ],
    inconsistentKeys: 8, lostWrites: null, writeLatencyMs: { p50: 14, p99: 80 }, addedLatencyMs: { p50: 1.2, p99: 9.5 },
    timeline, settled: true, errorSamples: [],
    ...over,
  };
}

/** Three strategies over a 40 s run with the default faults. */
export function sampleResult(): LabResult {
  return {
    startedAt: '2026-12-01T12:00:00.000Z', durationMs: 40_000, elapsedMs: 40_000, interrupted: false,
    settings: { keys: 50, writers: 2, readers: 4, fillDelayMs: 50, hotKeys: 5, hotShare: 0.8, replicaDelaySeconds: 1 },
    faults: [
      { kind: 'app-crash', startMs: 4800, endMs: 4800 }, { kind: 'redis-errors', startMs: 8800, endMs: 10_800 },
      { kind: 'redis-restart', startMs: 14_400, endMs: 14_650 }, { kind: 'worker-crash', startMs: 18_400, endMs: 22_400 },
      { kind: 'app-crash', startMs: 24_800, endMs: 24_800 }, { kind: 'replica-reads', startMs: 28_000, endMs: 36_000 },
    ],
    plainCommitMs: { p50: 12.5, p99: 70.5 },
    strategies: [
      strategy('cache-aside', {}),
      strategy('write-behind', {
        staleForever: 0, staleForeverKeys: [], staleReads: 10, lostWrites: 7,
        checks: [
          { horizonMs: 1000, checks: 1000, inconsistent: 0, nines: 3, ninesLowerBound: true },
          { horizonMs: 10_000, checks: 1000, inconsistent: 0, nines: 3, ninesLowerBound: true },
        ],
      }),
      strategy('ours', {
        ours: true, staleForever: 0, staleForeverKeys: [],
        checks: [
          { horizonMs: 1000, checks: 1000, inconsistent: 5, nines: 2.3, ninesLowerBound: false },
          { horizonMs: 10_000, checks: 1000, inconsistent: 0, nines: 3, ninesLowerBound: true },
        ],
      }),
    ],
  };
}
