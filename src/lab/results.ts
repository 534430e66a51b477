/**
 * What a lab run reports, JSON-ready (bigints are not used), and how it is computed from the
 * tallies once everything settled. Pure.
 */
import { classifyCheck, ninesOf } from './audit-check.js';
import type { FaultEvent } from './faults.js';
import type { FinalRow } from './item-table.js';
import { percentile, type StrategyTally, type TruthBook } from './measure.js';
import type { KeyState, StrategyDefinition } from './strategy.js';

/** The auditor's figures at one horizon. */
export interface CheckResult {
  readonly horizonMs: number;
  readonly checks: number;
  readonly inconsistent: number;
  readonly nines: number;
  /** True when no check failed (the nines are then a lower bound). */
  readonly ninesLowerBound: boolean;
}

/** One strategy's figures. Durations in ms. */
export interface StrategyResult {
  readonly name: string;
  readonly steps: string;
  readonly failureMode: string;
  readonly ours: boolean;
  readonly writes: number;
  /** Writes cut short by the app-crash fault. */
  readonly diedWrites: number;
  readonly writeErrors: number;
  readonly reads: number;
  readonly hitRate: number;
  readonly dbReadsPerSecond: number;
  readonly readErrors: number;
  readonly backgroundErrors: number;
  readonly staleReads: number;
  readonly staleAgeMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Keys still serving a version older than the database's once everything settled. */
  readonly staleForever: number;
  readonly staleForeverKeys: readonly number[];
  readonly checks: readonly CheckResult[];
  /** Keys that failed at least one check. */
  readonly inconsistentKeys: number;
  /**
   * Items whose last acknowledged write is not in the database at the end (write-behind); null
   * for strategies whose writes commit before they are acknowledged.
   */
  readonly lostWrites: number | null;
  readonly writeLatencyMs: { readonly p50: number; readonly p99: number };
  /** Write latency over the plain commit's, measured beside the strategies under the same load. */
  readonly addedLatencyMs: { readonly p50: number; readonly p99: number };
  /** Per second from the start: reads, stale reads, oldest stale read's age. */
  readonly timeline: readonly { readonly reads: number; readonly staleReads: number; readonly maxStaleAgeMs: number }[];
  /** False when its pending work (relay, queue, flush) was not done by the settle deadline. */
  readonly settled: boolean;
  /** Up to 3 error messages seen, for diagnosis. */
  readonly errorSamples: readonly string[];
}

/** A whole run. */
export interface LabResult {
  readonly startedAt: string;
  readonly durationMs: number;
  /** Workload wall time (shorter when stopped early). */
  readonly elapsedMs: number;
  readonly interrupted: boolean;
  readonly settings: {
    readonly keys: number; readonly writers: number; readonly readers: number; readonly fillDelayMs: number;
    readonly hotKeys: number; readonly hotShare: number; readonly replicaDelaySeconds: number | null;
  };
  readonly faults: readonly FaultEvent[];
  readonly plainCommitMs: { readonly p50: number; readonly p99: number };
  readonly strategies: readonly StrategyResult[];
}

/** The end state used by {@link summarizeStrategy}. */
export interface FinalState {
  /** The database's version and name per id at the end. */
  readonly database: ReadonlyMap<number, FinalRow>;
  /** What each key holds at the end. */
  readonly keys: ReadonlyMap<number, KeyState>;
  readonly settled: boolean;
  readonly backgroundErrors: number;
  readonly errorSamples: readonly string[];
}

/**
 * Stale-forever keys: the key holds an entry/absent below the truth, the higher of the
 * database's version and the last version the client was told about.
 */
export function staleForeverKeys(book: TruthBook, final: Pick<FinalState, 'database' | 'keys'>): number[] {
  const stale: number[] = [];
  for (const [id, state] of final.keys) {
    const truthVersion = [final.database.get(id)?.version ?? 0n, book.latest(id)].reduce((a, b) => (a > b ? a : b));
    if (classifyCheck(state, truthVersion) === 'inconsistent') stale.push(id);
  }
  return stale.sort((a, b) => a - b);
}

/** One strategy's figures from its tally, book and end state. */
export function summarizeStrategy(
  def: StrategyDefinition, tally: StrategyTally, book: TruthBook, final: FinalState,
  elapsedMs: number, plainCommit: { p50: number; p99: number },
): StrategyResult {
  const stale = staleForeverKeys(book, final);
  const p50 = percentile(tally.writeLatencyMs, 50);
  const p99 = percentile(tally.writeLatencyMs, 99);
  const round = (x: number): number => Math.round(x * 100) / 100;
  return {
    name: def.name, steps: def.steps, failureMode: def.failureMode, ours: def.ours === true,
    writes: tally.writes, diedWrites: tally.diedWrites, writeErrors: tally.writeErrors,
    reads: tally.reads, hitRate: tally.reads === 0 ? 0 : tally.hits / tally.reads,
    dbReadsPerSecond: elapsedMs > 0 ? round(tally.dbReads / (elapsedMs / 1000)) : 0,
    readErrors: tally.readErrors, backgroundErrors: final.backgroundErrors,
    staleReads: tally.staleAgesMs.length,
    staleAgeMs: { p50: round(percentile(tally.staleAgesMs, 50)), p99: round(percentile(tally.staleAgesMs, 99)), max: round(Math.max(0, ...tally.staleAgesMs)) },
    staleForever: stale.length, staleForeverKeys: stale,
    checks: [...tally.checks].map(([horizonMs, c]) => {
      const n = ninesOf(c.checks, c.inconsistent);
      return { horizonMs, checks: c.checks, inconsistent: c.inconsistent, nines: round(n.nines), ninesLowerBound: n.lowerBound };
    }),
    inconsistentKeys: tally.inconsistentKeys.size,
    lostWrites: def.acknowledgesBeforeCommit ? book.lostWrites(new Map([...final.database].map(([id, row]) => [id, row.name]))) : null,
    writeLatencyMs: { p50: round(p50), p99: round(p99) },
    addedLatencyMs: { p50: round(p50 - plainCommit.p50), p99: round(p99 - plainCommit.p99) },
    timeline: tally.timeline.map((s) => ({ ...s, maxStaleAgeMs: Math.round(s.maxStaleAgeMs) })),
    settled: final.settled,
    errorSamples: final.errorSamples,
  };
}

/** The check result at `horizonMs`, if measured. */
export function checkAt(result: Pick<StrategyResult, 'checks'>, horizonMs: number): CheckResult | undefined {
  return result.checks.find((c) => c.horizonMs === horizonMs);
}
