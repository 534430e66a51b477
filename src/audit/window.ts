/**
 * Per-delay counts of consistent and inconsistent checks over a sliding window (Polaris reports
 * its nines over a recent period, not since start): buckets of `bucketMs` in a ring covering
 * `windowMs`, so memory is fixed and old results fall out as time passes. Pure: the caller
 * passes the clock.
 */
import { nines } from './check.js';

/** Counts of one delay over the window. */
export interface WindowStats {
  readonly checks: number;
  readonly inconsistent: number;
  /** consistent / checks; undefined with no check in the window. */
  readonly fraction: number | undefined;
  /** See {@link nines}; undefined with no check in the window. */
  readonly nines: number | undefined;
}

interface Bucket {
  start: number;
  checks: number;
  inconsistent: number;
}

/** Sliding-window counts for each of `delays` delays (indexes 0 .. delays-1). */
export class SlidingWindow {
  readonly #bucketMs: number;
  readonly #rings: Bucket[][];

  /** `windowMs` is rounded up to whole buckets of `bucketMs` (default windowMs / 30, at least 1 s). */
  constructor(delays: number, readonly windowMs: number, bucketMs = Math.max(1000, Math.ceil(windowMs / 30))) {
    this.#bucketMs = bucketMs;
    const count = Math.ceil(windowMs / bucketMs);
    this.#rings = Array.from({ length: delays }, () => Array.from({ length: count }, () => ({ start: -1, checks: 0, inconsistent: 0 })));
  }

  /** Counts one check of delay index `delay` made at `nowMs`. */
  record(delay: number, inconsistent: boolean, nowMs: number): void {
    const ring = this.#rings[delay];
    if (!ring) return;
    const start = Math.floor(nowMs / this.#bucketMs) * this.#bucketMs;
    const bucket = ring[Math.floor(nowMs / this.#bucketMs) % ring.length]!;
    if (bucket.start !== start) {
      bucket.start = start;
      bucket.checks = 0;
      bucket.inconsistent = 0;
    }
    bucket.checks += 1;
    if (inconsistent) bucket.inconsistent += 1;
  }

  /** Counts of delay index `delay` over the window ending at `nowMs`. */
  stats(delay: number, nowMs: number): WindowStats {
    let checks = 0;
    let inconsistent = 0;
    const oldest = nowMs - (this.#rings[delay]?.length ?? 0) * this.#bucketMs;
    for (const bucket of this.#rings[delay] ?? []) {
      if (bucket.start < 0 || bucket.start <= oldest) continue;
      checks += bucket.checks;
      inconsistent += bucket.inconsistent;
    }
    return {
      checks,
      inconsistent,
      fraction: checks === 0 ? undefined : (checks - inconsistent) / checks,
      nines: nines(checks - inconsistent, checks),
    };
  }
}
