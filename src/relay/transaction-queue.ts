/**
 * The hand-off between the binlog tail (producer) and the apply loop (consumer): committed
 * transactions in commit order, taken in batches of whole transactions. Runs of transactions
 * without outbox events collapse into one entry that only moves the position forward, so busy
 * tables that are not the outbox cost no memory here. Chunks of a large transaction still open
 * (no position yet) queue like transactions, so the queue's event bound holds inside one too.
 */
import type { OutboxEvent } from '../outbox/event.js';
import type { BinlogPosition } from './position.js';

/** Transactions taken together: their events in commit order and the position after the last. */
export interface RelayBatch {
  readonly events: readonly OutboxEvent[];
  /**
   * End of the batch's last complete transaction; safe to store once every event was applied.
   * Undefined when the batch is only the first part of a transaction still open.
   */
  readonly position: BinlogPosition | undefined;
  /** Number of queue entries taken (a run of event-less transactions counts as one). */
  readonly transactions: number;
  /** True when every entry only moved the position (heartbeats, rotations, own checkpoints). */
  readonly quiet: boolean;
  /** Commit time of the last entry that carries one (epoch ms). */
  readonly timestampMs: number | undefined;
}

/** What {@link TransactionQueue.push} takes besides the events. */
export interface EntryInfo {
  readonly quiet?: boolean;
  readonly timestampMs?: number;
}

interface Entry {
  readonly events: readonly OutboxEvent[];
  position: BinlogPosition | undefined;
  quiet: boolean;
  timestampMs: number | undefined;
}

/** FIFO of committed transactions with an async wait for the consumer. Single consumer. */
export class TransactionQueue {
  private entries: Entry[] = [];
  private events = 0;
  private wake: (() => void) | undefined;

  /** Events currently queued (the tail pauses reading above a bound). */
  get eventCount(): number {
    return this.events;
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /**
   * Appends a committed transaction (its events may be empty: it still moves the position), or,
   * with `position` undefined, a chunk of a transaction whose end is still to come.
   */
  push(events: readonly OutboxEvent[], position: BinlogPosition | undefined, info: EntryInfo = {}): void {
    const last = this.entries.at(-1);
    const quiet = info.quiet ?? false;
    if (events.length === 0 && position && last && last.events.length === 0 && last.position) {
      last.position = position;
      last.quiet &&= quiet;
      last.timestampMs = info.timestampMs ?? last.timestampMs;
    } else {
      this.entries.push({ events, position, quiet, timestampMs: info.timestampMs });
      this.events += events.length;
    }
    this.wake?.();
  }

  /**
   * Removes whole transactions from the head, as many as fit in `maxEvents` (at least one, even
   * when that one is larger). Returns undefined when empty.
   */
  take(maxEvents: number): RelayBatch | undefined {
    let count = 0;
    let total = 0;
    for (const entry of this.entries) {
      if (count > 0 && total + entry.events.length > maxEvents) break;
      total += entry.events.length;
      count += 1;
    }
    if (count === 0) return undefined;
    const taken = this.entries.splice(0, count);
    this.events -= total;
    let position: BinlogPosition | undefined;
    let timestampMs: number | undefined;
    for (const entry of taken) {
      position = entry.position ?? position;
      timestampMs = entry.timestampMs ?? timestampMs;
    }
    const events = taken.length === 1 ? (taken[0] as Entry).events : taken.flatMap((e) => e.events);
    return { events, position, transactions: count, quiet: taken.every((e) => e.quiet), timestampMs };
  }

  /**
   * Resolves true as soon as the queue is not empty, false after `timeoutMs` or when `signal`
   * aborts. One waiter at a time (the apply loop).
   */
  waitForEntries(timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    if (!this.isEmpty) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve(!this.isEmpty);
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      signal.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }
}
