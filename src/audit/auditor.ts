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
import { CheckSchedule, type DueCheck } from './schedule.js';
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

/** What the auditor has done so far (for metrics, the summary line and the report). */
export interface AuditSummary {
  readonly delays: readonly DelaySummary[];
  readonly events: number;
  readonly inconsistentKeys: number;
  readonly repaired: number;
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
  #counts = { events: 0, inconsistentKeys: 0, repaired: 0, maxScheduled: 0 };
  #newestCommitMs: number | undefined;
  #redisOk = true;
  #wake: (() => void) | undefined;
  #sleepUntil = 0;
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
    const metrics = this.#o.metrics;
    this.#counts.events += 1;
    this.#newestCommitMs = Math.max(this.#newestCommitMs ?? commitMs, commitMs);
    if (keys.length === 0) {
      metrics?.events.inc({ outcome: 'no_keys' });
      return 0;
    }
    if (this.#o.sampleRate !== undefined && this.#o.sampleRate < 1 && this.#random() >= this.#o.sampleRate) {
      metrics?.events.inc({ outcome: 'sampled_out' });
      return 0;
    }
    metrics?.events.inc({ outcome: 'audited' });
    const now = this.#now();
    for (const { key, version } of keys) {
      const target: Target = { key, version, commitMs, flagged: false };
      this.#delays.forEach((delayMs, delay) => {
        if (this.#schedule.add({ target, delay, done: onCheckDone }, commitMs + delayMs, now) === 'late') {
          this.#totals[delay]!.late += 1;
          metrics?.late.inc({ delay: formatDelay(delayMs) });
        }
      });
    }
    this.#counts.maxScheduled = Math.max(this.#counts.maxScheduled, this.#schedule.size);
    // Wake the idle loop only when this event's checks are due before it would wake anyway.
    if (this.#schedule.readyCount > 0 || commitMs + (this.#delays[0] ?? 0) < this.#sleepUntil) this.#wake?.();
    return keys.length * this.#delays.length;
  }

  /** Counts an event that was read but not audited (`unauditable`: it cannot be mapped; `dropped`: no room). */
  skipped(outcome: 'unauditable' | 'dropped'): void {
    this.#counts.events += 1;
    this.#o.metrics?.events.inc({ outcome });
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

  /** Checks due checks until `signal` aborts; checks not yet done are then abandoned. */
  async run(signal: AbortSignal): Promise<void> {
    const batch = this.#o.readBatch ?? 500;
    while (!signal.aborted) {
      const due = this.#schedule.take(this.#now(), batch);
      if (due.length > 0) {
        await this.#check(due, signal);
        if (this.hasRoom()) for (const waiter of this.#roomWaiters.splice(0)) waiter();
        continue;
      }
      const next = this.#schedule.nextDueMs();
      const waitMs = next === undefined ? 1000 : Math.min(1000, Math.max(1, next - this.#now()));
      this.#sleepUntil = this.#now() + waitMs;
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
    this.#schedule.clear();
    for (const waiter of this.#roomWaiters.splice(0)) waiter();
  }

  /** Totals, window figures and state. */
  summary(): AuditSummary {
    const now = this.#now();
    return {
      delays: this.#delays.map((delayMs, i) => ({ delay: formatDelay(delayMs), delayMs, ...this.#totals[i]!, window: this.#window.stats(i, now) })),
      events: this.#counts.events,
      inconsistentKeys: this.#counts.inconsistentKeys,
      repaired: this.#counts.repaired,
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

  async #check(due: readonly DueCheck<Check>[], signal: AbortSignal): Promise<void> {
    const { metrics, logger } = this.#o;
    // A key due at several delays at once (the auditor is behind) is read once.
    const index = new Map<string, number>();
    for (const { item } of due) if (!index.has(item.target.key)) index.set(item.target.key, index.size);
    const keys = [...index.keys()];
    let readAt = 0;
    const headers = await retry(async () => {
      readAt = this.#now();
      return this.#o.reader.readHeaders(keys);
    }, {
      ...this.#o.retry, signal,
      onRetry: (err, attempt, delayMs) => {
        this.#redisOk = false;
        metrics?.readErrors.inc();
        logger.warn({ attempt, delayMs, err: errorMessage(err) }, 'redis read failed; retrying');
      },
    }).catch((err: unknown) => {
      if (signal.aborted) return undefined;
      throw err;
    });
    if (!headers) return;
    this.#redisOk = true;
    const repairs = new Map<string, { target: Target; found: InconsistentKey }>();
    for (const { item } of due) {
      const { target, delay } = item;
      const delayMs = this.#delays[delay]!;
      const outcome = classify(target.version, headers[index.get(target.key)!], target.commitMs, readAt);
      const inconsistent = outcome.result === 'inconsistent';
      const label = formatDelay(delayMs);
      this.#totals[delay]!.checks += 1;
      this.#window.record(delay, inconsistent, readAt);
      metrics?.checks.inc({ delay: label, result: outcome.result });
      metrics?.checkLagSeconds.observe({ delay: label }, outcome.lagMs / 1000);
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
        metrics?.inconsistentKeys.inc();
      }
      const pending = repairs.get(target.key);
      if (!pending || pending.target.version < target.version) repairs.set(target.key, { target, found });
    }
    if (this.#o.repair && repairs.size > 0) await this.#repair([...repairs.values()], signal);
    for (const { item } of due) item.done?.();
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
      this.#o.metrics?.repairs.inc({ outcome });
      if (outcome === 'applied') {
        found.repaired = true;
        this.#counts.repaired += 1;
      }
      this.#o.logger.warn({ key: target.key, version: target.version.toString(), foundVersion: found.foundVersion, outcome }, 'repair: tombstone at the event version');
    });
  }
}
