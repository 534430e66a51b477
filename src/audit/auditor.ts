/**
 * The auditor's engine, independent of where events come from (a Kafka consumer group or the
 * embedded relay): events are submitted with their keys, versions and commit time; one check per
 * key and configured delay waits in a timing wheel until commit time + delay, then a batch of due
 * checks reads the keys' headers from Redis at once and classifies them. Optionally repairs an
 * inconsistent key with a tombstone at the event's version through the guard.
 */
import type { CacheWriter } from '../cache/actions.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../ops/logger.js';
import { retry, sleep } from '../retry.js';
import { classify } from './check.js';
import { formatDelay } from './delays.js';
import type { AuditMetrics } from './metrics.js';
import { RecentInconsistencies, type InconsistentKey } from './recent.js';
import { CheckSchedule } from './schedule.js';
import { SlidingWindow, type WindowStats } from './window.js';

/** A key an event wrote, at the version it wrote. */
export interface AuditedKey {
  readonly key: string;
  readonly version: bigint;
}

/** Reads the first bytes (the header) of many keys' values; null or empty for a missing key. */
export interface HeaderReader {
  readHeaders(keys: readonly string[]): Promise<readonly (Buffer | null)[]>;
}

/** Options of {@link Auditor}; durations in ms. */
export interface AuditorOptions {
  /** Delays after the commit at which each key is checked, e.g. [1000, 10000, 60000]. */
  readonly delaysMs: readonly number[];
  readonly reader: HeaderReader;
  /** When set, inconsistent keys get a tombstone at the event's version through this writer. */
  readonly repair?: CacheWriter;
  readonly logger: Logger;
  readonly metrics?: AuditMetrics;
  /** Fraction of events audited, (0, 1]. Default 1. */
  readonly sampleRate?: number;
  /** Most checks held (waiting or ready); {@link Auditor.hasRoom} turns false beyond. Default 100,000. */
  readonly maxPending?: number;
  /** A check read more than this after its due time counts as late. Default 10,000. */
  readonly lateAfterMs?: number;
  /** Most keys per Redis read. Default 500. */
  readonly readBatch?: number;
  /** Reads in flight at once. Default 4. */
  readonly readConcurrency?: number;
  /** Sliding window of the nines. Default 300,000. */
  readonly windowMs?: number;
  /** Inconsistencies kept for the report. Default 100. */
  readonly recentLimit?: number;
  /** Resolution of the schedule: a check runs at most this long after its due time when idle. Default 50. */
  readonly tickMs?: number;
  /** Backoff while Redis is unreachable. */
  readonly retry?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
  readonly now?: () => number;
  readonly random?: () => number;
}

/** Totals and window figures of one delay. */
export interface DelaySummary {
  readonly delay: string;
  readonly delayMs: number;
  readonly checks: number;
  readonly inconsistent: number;
  readonly late: number;
  readonly window: WindowStats;
}

/** What became of an event read: audited, left out by sampling, mapped to no versioned key, unmappable, or dropped for lack of room. */
export type EventOutcome = 'audited' | 'sampled_out' | 'no_keys' | 'unauditable' | 'dropped';

/** What the auditor has done so far (for metrics, the summary line and the report). */
export interface AuditSummary {
  readonly delays: readonly DelaySummary[];
  readonly events: number;
  /** Events by what became of them. */
  readonly outcomes: Readonly<Record<EventOutcome, number>>;
  readonly inconsistentKeys: number;
  readonly repaired: number;
  /** Repairs by outcome: tombstone written, or an equal or newer state already there. */
  readonly repairs: Readonly<Record<'applied' | 'stale', number>>;
  /** Failed Redis reads (each retried). */
  readonly readErrors: number;
  /** Checks held now, and the most ever held. */
  readonly scheduled: number;
  readonly maxScheduled: number;
  /** Now minus the commit time of the newest event submitted, ms. */
  readonly lagMs: number | undefined;
  /** False while Redis reads fail. */
  readonly redisOk: boolean;
}

/** One event key under audit: shared by its checks at every delay. */
interface Target extends AuditedKey {
  readonly commitMs: number;
  flagged: boolean;
}

interface Check {
  readonly target: Target;
  readonly delay: number;
  readonly done: (() => void) | undefined;
  dueMs: number;
  late: boolean;
}

/** See the module comment. Call {@link run} once; submit events while it runs. */
export class Auditor {
  readonly #o: AuditorOptions;
  readonly #delays: readonly number[];
  readonly #schedule: CheckSchedule<Check>;
  readonly #window: SlidingWindow;
  readonly #recent: RecentInconsistencies;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #maxPending: number;
  readonly #totals: { checks: number; inconsistent: number; late: number }[];
  #counts = { events: 0, inconsistentKeys: 0, repaired: 0, maxScheduled: 0, readErrors: 0 };
  readonly #outcomes: Record<EventOutcome, number> = { audited: 0, sampled_out: 0, no_keys: 0, unauditable: 0, dropped: 0 };
  readonly #repairs: Record<'applied' | 'stale', number> = { applied: 0, stale: 0 };
  #newestCommitMs: number | undefined;
  #redisOk = true;
  #wake: (() => void) | undefined;
  #sleepUntil = 0;
  #wakeQueued = false;
  #roomWaiters: (() => void)[] = [];

  constructor(options: AuditorOptions) {
    this.#o = options;
    this.#delays = [...options.delaysMs].sort((a, b) => a - b);
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#maxPending = options.maxPending ?? 100_000;
    this.#schedule = new CheckSchedule({ horizonMs: this.#delays.at(-1) ?? 0, tickMs: options.tickMs, lateAfterMs: options.lateAfterMs ?? 10_000 });
    this.#window = new SlidingWindow(this.#delays.length, options.windowMs ?? 300_000);
    this.#recent = new RecentInconsistencies(options.recentLimit ?? 100);
    this.#totals = this.#delays.map(() => ({ checks: 0, inconsistent: 0, late: 0 }));
    options.metrics?.observe(() => this.summary());
  }

  /**
   * Schedules one check per key and delay for an event committed at `commitMs`, unless sampling
   * leaves it out. `onCheckDone` is called once per finished check. Returns the number of checks
   * scheduled (0: nothing to wait for). Never refuses: callers keep within the bound with
   * {@link hasRoom} / {@link waitForRoom}.
   */
  submit(keys: readonly AuditedKey[], commitMs: number, onCheckDone?: () => void): number {
    this.#counts.events += 1;
    this.#newestCommitMs = Math.max(this.#newestCommitMs ?? commitMs, commitMs);
    if (keys.length === 0) {
      this.#outcomes.no_keys += 1;
      return 0;
    }
    if (this.#o.sampleRate !== undefined && this.#o.sampleRate < 1 && this.#random() >= this.#o.sampleRate) {
      this.#outcomes.sampled_out += 1;
      return 0;
    }
    this.#outcomes.audited += 1;
    const now = this.#now();
    for (const { key, version } of keys) {
      const target: Target = { key, version, commitMs, flagged: false };
      for (let delay = 0; delay < this.#delays.length; delay++) {
        if (this.#schedule.add({ target, delay, done: onCheckDone, dueMs: commitMs + this.#delays[delay]!, late: false }, now) === 'late') {
          this.#totals[delay]!.late += 1;
        }
      }
    }
    this.#counts.maxScheduled = Math.max(this.#counts.maxScheduled, this.#schedule.size);
    // Wake the idle loop only when this event's checks are due before it would wake anyway, and
    // after the caller's current run of submissions, so that one read carries many keys.
    if (!this.#wakeQueued && this.#wake && (this.#schedule.readyCount > 0 || commitMs + (this.#delays[0] ?? 0) < this.#sleepUntil)) {
      this.#wakeQueued = true;
      setImmediate(() => {
        this.#wakeQueued = false;
        this.#wake?.();
      });
    }
    return keys.length * this.#delays.length;
  }

  /** Counts an event that was read but not audited (`unauditable`: it cannot be mapped; `dropped`: no room). */
  skipped(outcome: 'unauditable' | 'dropped'): void {
    this.#counts.events += 1;
    this.#outcomes[outcome] += 1;
  }

  /** True while fewer checks than the bound are held. */
  hasRoom(): boolean {
    return this.#schedule.size < this.#maxPending;
  }

  /** Resolves once {@link hasRoom}, when `signal` aborts, or after `timeoutMs` (so callers can heartbeat). */
  async waitForRoom(signal: AbortSignal, timeoutMs = 1000): Promise<void> {
    if (this.hasRoom() || signal.aborted) return;
    const room = new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    await Promise.race([room, sleep(timeoutMs, signal)]);
  }

  /**
   * Checks due checks until `signal` aborts; checks not yet done are then abandoned. Up to
   * `readConcurrency` batches are read at once, so Redis round trips overlap.
   */
  async run(signal: AbortSignal): Promise<void> {
    const batch = this.#o.readBatch ?? 500;
    const concurrency = this.#o.readConcurrency ?? 4;
    const inFlight = new Set<Promise<void>>();
    while (!signal.aborted) {
      if (inFlight.size < concurrency) {
        const due = this.#schedule.take(this.#now(), batch);
        if (due.length > 0) {
          const reading: Promise<void> = this.#check(due, signal).finally(() => {
            inFlight.delete(reading);
            if (this.hasRoom()) for (const waiter of this.#roomWaiters.splice(0)) waiter();
            this.#wake?.();
          });
          inFlight.add(reading);
          continue;
        }
      }
      const next = inFlight.size < concurrency ? this.#schedule.nextDueMs() : undefined;
      const waitMs = next === undefined ? 1000 : Math.min(1000, Math.max(1, next - this.#now()));
      this.#sleepUntil = inFlight.size < concurrency ? this.#now() + waitMs : 0;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, waitMs);
        function wake(): void {
          clearTimeout(timer);
          signal.removeEventListener('abort', wake);
          resolve();
        }
        this.#wake = wake;
        signal.addEventListener('abort', wake, { once: true });
      });
      this.#wake = undefined;
    }
    await Promise.all(inFlight);
    this.#schedule.clear();
    for (const waiter of this.#roomWaiters.splice(0)) waiter();
  }

  /** Totals, window figures and state. */
  summary(): AuditSummary {
    const now = this.#now();
    return {
      delays: this.#delays.map((delayMs, i) => ({ delay: formatDelay(delayMs), delayMs, ...this.#totals[i]!, window: this.#window.stats(i, now) })),
      events: this.#counts.events,
      outcomes: { ...this.#outcomes },
      inconsistentKeys: this.#counts.inconsistentKeys,
      repaired: this.#counts.repaired,
      repairs: { ...this.#repairs },
      readErrors: this.#counts.readErrors,
      scheduled: this.#schedule.size,
      maxScheduled: this.#counts.maxScheduled,
      lagMs: this.#newestCommitMs === undefined ? undefined : Math.max(0, now - this.#newestCommitMs),
      redisOk: this.#redisOk,
    };
  }

  /** The last inconsistencies found, oldest first. */
  recentInconsistencies(): InconsistentKey[] {
    return this.#recent.list();
  }

  async #check(due: readonly Check[], signal: AbortSignal): Promise<void> {
    const { logger } = this.#o;
    // A key due at several delays at once (the auditor is behind) is read once.
    const index = new Map<string, number>();
    for (const { target } of due) if (!index.has(target.key)) index.set(target.key, index.size);
    const keys = [...index.keys()];
    let readAt = 0;
    const headers = await retry(async () => {
      readAt = this.#now();
      return this.#o.reader.readHeaders(keys);
    }, {
      // A read changes nothing: any failure is worth another attempt.
      ...this.#o.retry, signal, shouldRetry: () => true,
      onRetry: (err, attempt, delayMs) => {
        this.#redisOk = false;
        this.#counts.readErrors += 1;
        logger.warn({ attempt, delayMs, err: errorMessage(err) }, 'redis read failed; retrying');
      },
    }).catch(() => undefined);
    // Only an abort ends the retries: the checks are abandoned with the run.
    if (!headers) return;
    this.#redisOk = true;
    const repairs = new Map<string, { target: Target; found: InconsistentKey }>();
    for (const { target, delay } of due) {
      const delayMs = this.#delays[delay]!;
      const outcome = classify(target.version, headers[index.get(target.key)!], target.commitMs, readAt);
      const inconsistent = outcome.result === 'inconsistent';
      const label = formatDelay(delayMs);
      this.#totals[delay]!.checks += 1;
      this.#window.record(delay, inconsistent, readAt);
      if (!inconsistent) continue;
      this.#totals[delay]!.inconsistent += 1;
      const found: InconsistentKey = {
        key: target.key, expectedVersion: target.version.toString(), found: outcome.found, foundVersion: outcome.foundVersion?.toString(),
        delayMs, commitMs: target.commitMs, checkedAtMs: readAt, repaired: false,
      };
      this.#recent.add(found);
      logger.warn({ key: target.key, expectedVersion: found.expectedVersion, found: found.found, foundVersion: found.foundVersion, delay: label, lagMs: outcome.lagMs },
        'inconsistent cache key');
      if (!target.flagged) {
        target.flagged = true;
        this.#counts.inconsistentKeys += 1;
      }
      const pending = repairs.get(target.key);
      if (!pending || pending.target.version < target.version) repairs.set(target.key, { target, found });
    }
    if (this.#o.repair && repairs.size > 0) await this.#repair([...repairs.values()], signal);
    for (const check of due) check.done?.();
  }

  async #repair(items: readonly { target: Target; found: InconsistentKey }[], signal: AbortSignal): Promise<void> {
    const writer = this.#o.repair!;
    const outcomes = await retry(
      () => writer.applyBatch(items.map(({ target }) => ({ kind: 'invalidate', key: target.key, version: target.version }))),
      { ...this.#o.retry, signal },
    ).catch((err: unknown) => {
      this.#o.logger.error({ keys: items.length, err: errorMessage(err) }, 'repair failed');
      return undefined;
    });
    outcomes?.forEach((outcome, i) => {
      const { target, found } = items[i]!;
      this.#repairs[outcome] += 1;
      if (outcome === 'applied') {
        found.repaired = true;
        this.#counts.repaired += 1;
      }
      this.#o.logger.warn({ key: target.key, version: target.version.toString(), foundVersion: found.foundVersion, outcome }, 'repair: tombstone at the event version');
    });
  }
}
