/**
 * The relay's moving parts once started: the binlog tail fills a queue of committed transactions,
 * one loop applies them in batches (retrying outages) and stores the position behind them. A
 * broken binlog stream is reopened from the last transaction boundary it delivered. A batch
 * larger than `maxBatchEvents` (one huge transaction) is applied in slices, each its own call with
 * its own deadlines; the position after it is marked only once the last slice applied.
 */
import { OutboxCacheError, errorMessage } from '../errors.js';
import type { OutboxEvent } from '../outbox/event.js';
import { retry, sleep, type RetryOptions } from '../retry.js';
import { RelayError } from './errors.js';
import type { RelayLogger } from './logger.js';
import { formatPosition, samePosition, type BinlogPosition } from './position.js';
import type { CommittedTransaction } from './transaction-assembler.js';
import { TransactionQueue, type EntryInfo, type RelayBatch } from './transaction-queue.js';

/** A batch that was applied: its events (commit order) and the position after it (if it completes a transaction). */
export type RelayBatchInfo = RelayBatch;

/** Where a relay is: `streaming` (reading and applying), `paused` (retrying an outage), `stopped`. */
export type RelayState = 'starting' | 'streaming' | 'paused' | 'stopped';

/** Counters and positions of a running relay. */
export interface RelayStats {
  /** Committed transactions received (the relay's own checkpoint writes excluded). */
  readonly transactions: number;
  /** Events applied. */
  readonly events: number;
  /** `apply` calls that succeeded. */
  readonly batches: number;
  /** Outbox rows skipped because they could not be events (each logged at error level). */
  readonly invalidRows: number;
  /** Times the binlog stream was reopened after a connection loss. */
  readonly reconnects: number;
  /** Times the binlog stream was lost (closed, failed, or silent past the heartbeat deadline). */
  readonly streamLosses: number;
  /** Events received and not yet applied. */
  readonly queuedEvents: number;
  /** Position after the last applied batch. */
  readonly appliedPosition: BinlogPosition;
  /** Position last stored in MySQL (where a restart resumes). */
  readonly storedPosition: BinlogPosition;
  /** Commit time (epoch ms, binlog header, second precision) of the last applied transaction or heartbeat. */
  readonly appliedTimestampMs: number | undefined;
  readonly state: RelayState;
}

/** The part of a binlog tail the loop drives. */
export interface TailHandle {
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
  readonly lastPosition: BinlogPosition;
}

/** Callbacks a tail reports to. */
export interface TailHandlers {
  readonly onTransaction: (tx: CommittedTransaction) => void;
  /** Part of a large transaction, before its commit (no position). */
  readonly onChunk: (events: readonly OutboxEvent[]) => void;
  readonly onError: (err: RelayError) => void;
}

/** Batching, back-pressure and checkpoint settings of a relay; durations in milliseconds. */
export interface RelayTuning {
  /** Most events per `apply` call (whole transactions; a larger transaction goes alone). Default 500. */
  readonly maxBatchEvents?: number;
  /** Wait this long for more events before applying a partial batch. Default 0. */
  readonly batchLingerMs?: number;
  /** Stop reading the binlog while this many events wait to be applied. Default 20,000. */
  readonly maxQueuedEvents?: number;
  /** Store the position at most this often (and after this long idle). Default 1,000. */
  readonly checkpointIntervalMs?: number;
  /** Backoff of `apply`, position writes and reconnects. Defaults 100 → 10,000. */
  readonly retryDelays?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
  /**
   * Called after each `apply` call resolved (before its position is stored), with the batch (or
   * slice of one) and what `apply` resolved to (the sink step's ApplyReport in redis mode). An
   * embedded consumer such as an auditor hooks here; it must not throw and should not block.
   */
  readonly onBatchApplied?: (batch: RelayBatchInfo, result: unknown) => void;
}

/** What {@link RelayLoop} needs; durations in milliseconds. */
export interface RelayLoopOptions extends RelayTuning {
  readonly relayName: string;
  readonly apply: (events: readonly OutboxEvent[]) => Promise<unknown>;
  readonly signal: AbortSignal;
  readonly logger: RelayLogger;
  readonly store: { save(position: BinlogPosition): Promise<void> };
  readonly openTail: (from: BinlogPosition, handlers: TailHandlers) => Promise<TailHandle>;
  /** Position already stored, where the first tail starts. */
  readonly start: BinlogPosition;
  /** Awaited before every apply and position write: rejects (non-retriable) once the relay's lock is lost. */
  readonly guard?: () => Promise<void>;
}

/** Longest a stop waits for frozen connections (tail, position write) before abandoning them, ms. */
const STOP_BUDGET_MS = 3_000;

/** Runs one relay; see the module comment. */
export class RelayLoop {
  private readonly queue = new TransactionQueue();
  private readonly failure = new AbortController();
  private readonly stop: AbortSignal;
  private readonly handlers: TailHandlers;
  private tail: TailHandle | undefined;
  /** True while the loop holds the tail paused for back-pressure. */
  private paused = false;
  private reconnecting: Promise<void> | undefined;
  private fatal: RelayError | undefined;
  private counts = { transactions: 0, events: 0, batches: 0, invalidRows: 0, reconnects: 0, streamLosses: 0 };
  private applied: BinlogPosition;
  private stored: BinlogPosition;
  /** Something other than heartbeats, rotations and own checkpoints was applied since the last save. */
  private significant = false;
  private appliedTimestampMs: number | undefined;
  private state: RelayState = 'starting';
  private saving: Promise<void> | undefined;
  private lastSave = Date.now();

  constructor(private readonly options: RelayLoopOptions) {
    this.stop = AbortSignal.any([options.signal, this.failure.signal]);
    this.applied = options.start;
    this.stored = options.start;
    this.handlers = {
      onTransaction: (tx) => this.onTransaction(tx),
      onChunk: (events) => this.enqueue(events, undefined, {}),
      onError: (err) => this.onTailError(err),
    };
  }

  /** Opens the first binlog stream at `start`. */
  async open(): Promise<void> {
    this.tail = await this.options.openTail(this.options.start, this.handlers);
    this.state = 'streaming';
  }

  /** Counters and positions. */
  stats(): RelayStats {
    return {
      ...this.counts, queuedEvents: this.queue.eventCount, appliedPosition: this.applied, storedPosition: this.stored,
      appliedTimestampMs: this.appliedTimestampMs, state: this.state,
    };
  }

  /**
   * Applies batches until `signal` aborts (resolves) or a non-retriable error stops the relay
   * (rejects). Either way the position of every fully applied batch is stored before it settles.
   */
  async run(): Promise<void> {
    const { logger, relayName } = this.options;
    const maxBatch = this.options.maxBatchEvents ?? 500;
    const linger = this.options.batchLingerMs ?? 0;
    try {
      while (!this.stop.aborted) {
        const waitMs = this.unsaved() ? this.lastSave + this.interval() - Date.now() : this.interval();
        if (await this.queue.waitForEntries(waitMs, this.stop)) {
          if (linger > 0 && this.queue.eventCount < maxBatch) await sleep(linger, this.stop);
          const batch = this.queue.take(maxBatch) as RelayBatch;
          if (this.paused && this.queue.eventCount <= this.maxQueued() / 2) {
            this.paused = false;
            this.tail?.resume();
          }
          for (let from = 0; from < batch.events.length; from += maxBatch) {
            const slice = batch.events.length <= maxBatch ? batch : { ...batch, events: batch.events.slice(from, from + maxBatch) };
            await this.options.guard?.();
            // DESIGN.md §5: only the project's own non-retriable errors stop the relay (a record too
            // large for Kafka, a lost lock); an unknown failure of apply pauses and retries.
            const result = await retry(() => this.options.apply(slice.events), {
              ...this.retryOptions('apply'), shouldRetry: (err) => !(err instanceof OutboxCacheError) || err.retriable,
            });
            this.recovered();
            this.counts.events += slice.events.length;
            this.counts.batches += 1;
            this.options.onBatchApplied?.(slice, result);
          }
          if (batch.position) {
            this.applied = batch.position;
            this.significant ||= !batch.quiet;
            this.appliedTimestampMs = batch.timestampMs ?? this.appliedTimestampMs;
          }
        }
        this.checkpoint();
      }
    } catch (err) {
      // Aborting during a retry's wait abandons the batch: its position was never marked applied.
      if (!this.options.signal.aborted) this.fail(asRelayError(err));
    } finally {
      this.state = 'stopped';
      // Connections may be frozen: each step is bounded, and what does not finish in time is abandoned.
      const deadline = Date.now() + STOP_BUDGET_MS;
      await within(deadline, this.reconnecting);
      await within(deadline, this.tail?.stop());
      await within(deadline, this.saving);
      if (this.unsaved()) await within(deadline, this.finalSave(this.applied));
    }
    logger.info({ relay: relayName, position: formatPosition(this.stored), ...this.counts }, 'relay stopped');
    if (this.fatal) throw this.fatal;
  }

  /**
   * True when the applied position should be stored: events (or other tables' transactions) were
   * applied past it, or position-only steps reached another binlog file (so the stored file can
   * be purged without the position being lost).
   */
  private unsaved(): boolean {
    if (samePosition(this.applied, this.stored)) return false;
    return this.significant || this.applied.file !== this.stored.file;
  }

  private recovered(): void {
    if (this.state === 'paused') this.state = 'streaming';
  }

  /**
   * Stores the applied position in the background, at most once per interval and one write at a
   * time, so a slow MySQL never holds up applying (a later save carries the newer position).
   */
  private checkpoint(): void {
    if (this.saving || !this.unsaved() || Date.now() - this.lastSave < this.interval()) return;
    const position = this.applied;
    this.lastSave = Date.now();
    this.significant = false;
    this.saving = retry(async () => {
      await this.options.guard?.();
      await this.options.store.save(position);
    }, this.retryOptions('position save'))
      .then(
        () => void (this.stored = position),
        (err: unknown) => void (this.options.signal.aborted || this.fail(asRelayError(err))),
      )
      .finally(() => {
        this.saving = undefined;
        this.lastSave = Date.now();
      });
  }

  private interval(): number {
    return this.options.checkpointIntervalMs ?? 1_000;
  }

  private onTransaction(tx: CommittedTransaction): void {
    for (const err of tx.invalid) {
      this.counts.invalidRows += 1;
      this.options.logger.error({ relay: this.options.relayName, position: formatPosition(tx.position), code: err.code }, err.message);
    }
    // Its own position writes would otherwise be stored in turn, and so on forever.
    if (tx.ownCheckpoint) return;
    if (!tx.quiet) this.counts.transactions += 1;
    this.enqueue(tx.events, tx.position, { quiet: tx.quiet === true, timestampMs: tx.timestampMs });
  }

  private enqueue(events: readonly OutboxEvent[], position: BinlogPosition | undefined, info: EntryInfo): void {
    this.queue.push(events, position, info);
    if (!this.paused && this.queue.eventCount >= this.maxQueued()) {
      this.paused = true;
      this.tail?.pause();
    }
  }

  private onTailError(err: RelayError): void {
    if (this.stop.aborted) return;
    if (!err.retriable) {
      this.fail(err);
      return;
    }
    const from = this.tail?.lastPosition ?? this.applied;
    this.options.logger.warn({ relay: this.options.relayName, position: formatPosition(from), code: err.code, error: err.message },
      'binlog stream lost; reopening');
    this.state = 'paused';
    this.counts.streamLosses += 1;
    this.reconnecting = this.reconnect(from);
  }

  private async reconnect(from: BinlogPosition): Promise<void> {
    const old = this.tail;
    this.tail = undefined;
    this.paused = false;
    await old?.stop();
    try {
      const tail = await retry(() => this.options.openTail(from, this.handlers), this.retryOptions('binlog reconnect'));
      if (this.stop.aborted) await tail.stop();
      else this.tail = tail;
      this.counts.reconnects += 1;
      this.recovered();
    } catch (err) {
      if (!this.stop.aborted) this.fail(asRelayError(err));
    }
  }

  private async finalSave(position: BinlogPosition): Promise<void> {
    try {
      await this.options.guard?.();
      await retry(() => this.options.store.save(position), { ...this.options.retryDelays, maxAttempts: 3 });
      this.stored = position;
    } catch (err) {
      this.options.logger.warn({ relay: this.options.relayName, position: formatPosition(position), error: errorMessage(err) },
        'could not store the final position; the next start re-delivers from the previous one');
    }
  }

  /** Stops the relay with `err` (e.g. its lock was lost); `run` rejects with it. */
  failWith(err: RelayError): void {
    this.fail(err);
  }

  private fail(err: RelayError): void {
    this.fatal ??= err;
    this.options.logger.error({ relay: this.options.relayName, code: err.code }, err.message);
    this.failure.abort();
  }

  private maxQueued(): number {
    return this.options.maxQueuedEvents ?? 20_000;
  }

  private retryOptions(what: string): RetryOptions {
    return {
      ...this.options.retryDelays,
      signal: this.stop,
      onRetry: (err, attempt, delayMs) => {
        if (this.state === 'streaming') this.state = 'paused';
        this.options.logger.warn({ relay: this.options.relayName, attempt, delayMs, error: errorMessage(err) }, `${what} failed; retrying`);
      },
    };
  }
}

/** Waits for `promise` until `deadline` (epoch ms) at the latest; never rejects. */
async function within(deadline: number, promise: Promise<unknown> | undefined): Promise<void> {
  if (!promise) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => {}),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now())))),
  ]);
  clearTimeout(timer);
}

function asRelayError(err: unknown): RelayError {
  if (err instanceof RelayError) return err;
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'RELAY_FAILED';
  return new RelayError(errorMessage(err), { code, cause: err });
}
