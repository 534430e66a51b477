/** The last N inconsistencies found, for the summary, `/metrics` readers and the `--report` file. Pure. */
import type { FoundState } from './check.js';

/** One inconsistency: which key, the version its event wrote, what Redis held instead, and when. */
export interface InconsistentKey {
  readonly key: string;
  /** Version of the event (decimal text, so the record serialises to JSON). */
  readonly expectedVersion: string;
  readonly found: FoundState;
  /** Version found (decimal text). */
  readonly foundVersion: string | undefined;
  /** The check's delay, ms. */
  readonly delayMs: number;
  readonly commitMs: number;
  readonly checkedAtMs: number;
  /** True when repair wrote a tombstone at the expected version. */
  repaired: boolean;
}

/** A ring of the last `limit` inconsistencies, oldest first. */
export class RecentInconsistencies {
  #items: InconsistentKey[] = [];

  constructor(readonly limit: number) {}

  /** Adds one, dropping the oldest beyond the limit. */
  add(item: InconsistentKey): void {
    if (this.limit <= 0) return;
    this.#items.push(item);
    if (this.#items.length > this.limit) this.#items.splice(0, this.#items.length - this.limit);
  }

  /** A copy, oldest first. */
  list(): InconsistentKey[] {
    return this.#items.map((item) => ({ ...item }));
  }
}
