/**
 * The hand-off between the binlog tail (producer) and the apply loop (consumer): committed
 * transactions in commit order, taken in batches of whole transactions. Runs of transactions
 * without outbox events collapse into one entry that only moves the position forward, so busy
 * tables that are not the outbox cost no memory here.
 */
import type { OutboxEvent } from '../outbox/event.js';
import type { BinlogPosition } from './position.js';

/** Transactions taken together: their events in commit order and the position after the last. */
export interface RelayBatch {
  readonly events: readonly OutboxEvent[];
  /** End of the batch's last transaction; safe to store once every event was applied. */
  readonly position: BinlogPosition;
  /** Number of queue entries taken (a run of event-less transactions counts as one). */
  readonly transactions: number;
}

interface Entry {
  readonly events: readonly OutboxEvent[];
  position: BinlogPosition;
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

  /** Appends a committed transaction (its events may be empty: it still moves the position). */
  push(events: readonly OutboxEvent[], position: BinlogPosition): void {
    const last = this.entries.at(-1);
    if (events.length === 0 && last && last.events.length === 0) {
      last.position = position;
    } else {
      this.entries.push({ events, position });
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
    const last = taken[taken.length - 1] as Entry;
    return { events: taken.flatMap((e) => e.events), position: last.position, transactions: count };
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
