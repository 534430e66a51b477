/**
 * Which offset of a partition may be committed: the auditor reads records in offset order but
 * their checks finish later (up to the longest delay), so the committable offset is the one after
 * the longest run of records, from the oldest, whose checks are all done. Pure.
 */

/** One record of a partition in flight: its offset and how many of its checks are still pending. */
export interface TrackedRecord {
  readonly offset: bigint;
  pending: number;
}

/** The records of one partition in flight, in offset order. */
export class PartitionProgress {
  #queue: TrackedRecord[] = [];
  #head = 0;
  #committable: bigint | undefined;
  #committed: bigint | undefined;

  /** Records in flight (their checks not all done, or an older record's not done). */
  get inFlight(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * Starts tracking the record at `offset` with `pending` checks (0: nothing to check, e.g. a
   * sampled-out or unmappable record). Returns a function to call once per finished check.
   */
  track(offset: bigint, pending: number): () => void {
    const record: TrackedRecord = { offset, pending };
    this.#queue.push(record);
    if (pending === 0) this.#settle();
    return () => {
      if (record.pending <= 0) return;
      record.pending -= 1;
      if (record.pending === 0) this.#settle();
    };
  }

  /** The offset to commit (one after the last record done with everything before it), if new since {@link markCommitted}. */
  toCommit(): bigint | undefined {
    if (this.#committable === undefined || this.#committable === this.#committed) return undefined;
    return this.#committable;
  }

  /** Records that `offset` was committed. */
  markCommitted(offset: bigint): void {
    this.#committed = offset;
  }

  #settle(): void {
    while (this.#head < this.#queue.length && this.#queue[this.#head]!.pending === 0) {
      this.#committable = this.#queue[this.#head]!.offset + 1n;
      this.#head += 1;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}
