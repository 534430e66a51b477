/**
 * The lab's bookkeeping, pure. Ground truth per strategy: every version committed (acknowledged,
 * for write-behind) and when, on the lab's clock. Per strategy: reads, hits, database reads, stale
 * reads and their age, the auditor's checks, write latency; and a per-second timeline.
 *
 * A read is stale when it returns a version below one whose commit had returned before the read
 * began: that version was certainly in the database. Its age is the time since the commit of the
 * first version it missed.
 */
import type { CheckOutcome } from './audit-check.js';

/** Committed versions of one strategy's items, and when each commit returned (ms, lab clock). */
export class TruthBook {
  readonly #latest = new Map<number, bigint>();
  readonly #at = new Map<string, number>();
  readonly #lastName = new Map<number, string>();

  /** Records that `version` of `id`, with `name`, was committed (acknowledged) at `atMs`. */
  committed(id: number, version: bigint, atMs: number, name: string): void {
    const key = `${id}:${version}`;
    if (!this.#at.has(key)) this.#at.set(key, atMs);
    if (version > (this.#latest.get(id) ?? 0n)) this.#latest.set(id, version);
    this.#lastName.set(id, name);
  }

  /** Highest version of `id` committed so far; 0n before any. */
  latest(id: number): bigint {
    return this.#latest.get(id) ?? 0n;
  }

  /** Highest version per id. */
  latestAll(): ReadonlyMap<number, bigint> {
    return this.#latest;
  }

  /** When the commit of `version` of `id` returned. */
  committedAt(id: number, version: bigint): number | undefined {
    return this.#at.get(`${id}:${version}`);
  }

  /**
   * Lost writes: items whose last acknowledged write is not what the database holds at the end
   * (`names`: each item's name in the database). Compared by value, not version: after a crash
   * write-behind's counter restarts from the database and reuses the numbers of lost writes.
   */
  lostWrites(names: ReadonlyMap<number, string>): number {
    let lost = 0;
    for (const [id, name] of this.#lastName) if (names.get(id) !== name) lost += 1;
    return lost;
  }
}

/** Percentile `p` in [0, 100] of `values` (nearest rank); 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** One second of a strategy's timeline. */
export interface TimelineSecond {
  reads: number;
  staleReads: number;
  /** Oldest stale read of that second, ms. */
  maxStaleAgeMs: number;
}

/** Counts of the auditor's checks at one horizon. */
export interface CheckCounts {
  checks: number;
  inconsistent: number;
}

/** Everything measured for one strategy while the lab runs. */
export class StrategyTally {
  writes = 0;
  /** Writes whose app "died" at the crash point. */
  diedWrites = 0;
  writeErrors = 0;
  reads = 0;
  hits = 0;
  dbReads = 0;
  readErrors = 0;
  readonly staleAgesMs: number[] = [];
  readonly writeLatencyMs: number[] = [];
  readonly timeline: TimelineSecond[] = [];
  readonly checks = new Map<number, CheckCounts>();
  readonly inconsistentKeys = new Set<number>();

  constructor(readonly horizonsMs: readonly number[]) {
    for (const h of horizonsMs) this.checks.set(h, { checks: 0, inconsistent: 0 });
  }

  /** Records a read of `id` that began at `startedAtMs` with `committedBefore` the latest version then. */
  read(book: TruthBook, id: number, version: bigint, hit: boolean, startedAtMs: number, committedBefore: bigint): void {
    this.reads += 1;
    if (hit) this.hits += 1;
    const second = this.second(startedAtMs);
    second.reads += 1;
    if (version >= committedBefore) return;
    const missedAt = book.committedAt(id, version + 1n) ?? book.committedAt(id, committedBefore) ?? startedAtMs;
    const age = Math.max(0, startedAtMs - missedAt);
    this.staleAgesMs.push(age);
    second.staleReads += 1;
    second.maxStaleAgeMs = Math.max(second.maxStaleAgeMs, age);
  }

  /** Records one auditor check. */
  check(horizonMs: number, id: number, outcome: CheckOutcome): void {
    const counts = this.checks.get(horizonMs);
    if (!counts) return;
    counts.checks += 1;
    if (outcome === 'inconsistent') {
      counts.inconsistent += 1;
      this.inconsistentKeys.add(id);
    }
  }

  private second(atMs: number): TimelineSecond {
    const index = Math.max(0, Math.floor(atMs / 1000));
    while (this.timeline.length <= index) this.timeline.push({ reads: 0, staleReads: 0, maxStaleAgeMs: 0 });
    return this.timeline[index] as TimelineSecond;
  }
}
