/**
 * The in-process L1 tier's store (DESIGN.md §4a): a bounded LRU of (key, version, value,
 * fetched-at), pure (no I/O). Entries come only from guarded reads and leave when an invalidation
 * for the key at a higher version arrives, when their short TTL runs out, when the bounds evict
 * them, or when the invalidation subscription is lost (everything is cleared).
 *
 * The race it closes: a reader GETs `E5` from Redis while the sink applies `T6` and publishes it;
 * the message can reach this process before the GET's reply is turned into an L1 entry. So a read
 * that may fill L1 registers its key first ({@link L1Store.beginFill}); invalidations that arrive
 * while it is pending are remembered on the ticket, and {@link L1Store.completeFill} refuses a
 * version they superseded. Only keys with a read in flight are remembered, so memory stays bounded
 * by the number of concurrent reads, whatever the sink's rate.
 *
 * Recency is tracked CLOCK-style (a `used` bit set on hit, cleared as the eviction hand passes)
 * rather than by moving the entry on every hit, so a hit costs one Map lookup and a few field
 * reads.
 */
import { ConfigError, type ConfigProblem } from '../../errors.js';
import { COARSE_CLOCK_TICK_MS, coarseNow } from './coarse-clock.js';

/** Bounds and lifetime of an L1; every field optional. */
export interface L1Options {
  /** Most entries held. Default 10,000. */
  readonly maxEntries?: number;
  /** Most bytes held (cached value bytes plus key length). Default 64 MiB. */
  readonly maxBytes?: number;
  /**
   * Lifetime of an entry in ms, counted from the guarded read that fetched it: the staleness
   * bound should an invalidation message be lost in flight. Default 5,000.
   */
  readonly ttlMs?: number;
}

/** {@link L1Options} with defaults applied. */
export type ResolvedL1Options = Required<L1Options>;

/** Defaults of {@link L1Options}. */
export const L1_DEFAULTS: ResolvedL1Options = Object.freeze({ maxEntries: 10_000, maxBytes: 64 * 1024 * 1024, ttlMs: 5_000 });

/** An L1 entry as a hit returns it. `value` is shared by every hit: treat it as immutable. */
export interface L1Entry<T> {
  readonly version: bigint;
  /** Undefined for a cached "known absent". */
  readonly value: T | undefined;
  /** When the guarded read that fetched it began, in ms on the store's clock. */
  readonly fetchedAtMs: number;
}

interface Slot<T> extends L1Entry<T> {
  readonly bytes: number;
  readonly expiresAtMs: number;
  used: boolean;
}

/** A read in flight that may fill L1 when it completes. */
export interface L1FillTicket {
  readonly key: string;
  /** The store's generation when the read began; a clear() in between voids the ticket. */
  readonly generation: number;
  readonly startedAtMs: number;
}

interface Pending {
  count: number;
  /** Highest version invalidated while the read was in flight; -1n none; null: dropped regardless of version. */
  invalidated: bigint | null;
}

/** Validates L1 options, reporting every problem at once. */
export function resolveL1Options(options: L1Options = {}): ResolvedL1Options {
  const resolved = { ...L1_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const problems: ConfigProblem[] = [];
  for (const name of ['maxEntries', 'maxBytes', 'ttlMs'] as const) {
    const value = resolved[name];
    if (!Number.isSafeInteger(value) || value <= 0) problems.push({ setting: `l1.${name}`, message: `must be a positive integer, got ${value}` });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(resolved);
}

/** The L1 store. One per read path; fed invalidations by the process's subscriber. */
export class L1Store<T> {
  private readonly entries = new Map<string, Slot<T>>();
  private readonly pending = new Map<string, Pending>();
  private readonly options: ResolvedL1Options;
  private readonly now: () => number;
  private readonly lifetimeMs: number;
  private bytes = 0;
  private generationValue = 0;
  private evictions = 0;

  /**
   * `now` is the clock in ms; default the coarse clock (coarse-clock.ts), whose lag is added to
   * the TTL's bound, so the TTL is shortened by one tick to keep `ttlMs` an upper bound.
   */
  constructor(options: L1Options = {}, now?: () => number) {
    this.options = resolveL1Options(options);
    this.now = now ?? coarseNow;
    this.lifetimeMs = now ? this.options.ttlMs : Math.max(1, this.options.ttlMs - COARSE_CLOCK_TICK_MS);
  }

  /** The entry for `key` at `minVersion` or above, unexpired; undefined otherwise. */
  get(key: string, minVersion?: bigint): L1Entry<T> | undefined {
    const slot = this.entries.get(key);
    if (slot === undefined) return undefined;
    if (slot.expiresAtMs <= this.now()) {
      this.remove(key, slot);
      return undefined;
    }
    if (minVersion !== undefined && slot.version < minVersion) return undefined;
    slot.used = true;
    return slot;
  }

  /** Registers a read of `key` that may fill L1 when done; pair with completeFill or abandonFill. */
  beginFill(key: string): L1FillTicket {
    const pending = this.pending.get(key);
    if (pending) pending.count += 1;
    else this.pending.set(key, { count: 1, invalidated: -1n });
    return { key, generation: this.generationValue, startedAtMs: this.now() };
  }

  /**
   * Stores what a guarded read returned, unless an invalidation above `version` (or a revocation)
   * arrived since the ticket was taken, or the store was cleared since. Returns whether it stored.
   * `bytes` is the size of the cached bytes the value was decoded from.
   */
  completeFill(ticket: L1FillTicket, version: bigint, value: T | undefined, bytes: number): boolean {
    const pending = this.release(ticket.key);
    if (ticket.generation !== this.generationValue) return false;
    if (pending && (pending.invalidated === null || pending.invalidated > version)) return false;
    const size = bytes + ticket.key.length;
    if (size > this.options.maxBytes) return false;
    const existing = this.entries.get(ticket.key);
    if (existing) {
      if (existing.version > version) return false;
      this.remove(ticket.key, existing);
    }
    this.entries.set(ticket.key, {
      version, value, fetchedAtMs: ticket.startedAtMs, bytes: size, expiresAtMs: ticket.startedAtMs + this.lifetimeMs, used: false,
    });
    this.bytes += size;
    this.evict();
    return true;
  }

  /** Ends a ticket without filling (the read failed or found nothing cacheable). */
  abandonFill(ticket: L1FillTicket): void {
    this.release(ticket.key);
  }

  /**
   * Applies one published invalidation: drops the entry for `key` when it is below `version`
   * (null: whatever its version, for keys whose leases were revoked), and remembers it for reads
   * of `key` in flight.
   */
  invalidate(key: string, version: bigint | null): void {
    const slot = this.entries.get(key);
    if (slot && (version === null || slot.version < version)) this.remove(key, slot);
    const pending = this.pending.get(key);
    if (pending && pending.invalidated !== null) pending.invalidated = version === null || version > pending.invalidated ? version : pending.invalidated;
  }

  /** Drops every entry and voids every ticket in flight (the invalidation stream was interrupted). */
  clear(): void {
    this.entries.clear();
    this.bytes = 0;
    this.generationValue += 1;
  }

  /** Entries, bytes and evictions, for metrics and tests. */
  stats(): { readonly entries: number; readonly bytes: number; readonly evictions: number; readonly pendingReads: number } {
    return { entries: this.entries.size, bytes: this.bytes, evictions: this.evictions, pendingReads: this.pending.size };
  }

  private release(key: string): Pending | undefined {
    const pending = this.pending.get(key);
    if (!pending) return undefined;
    pending.count -= 1;
    if (pending.count === 0) this.pending.delete(key);
    return pending;
  }

  private remove(key: string, slot: Slot<T>): void {
    this.entries.delete(key);
    this.bytes -= slot.bytes;
  }

  /** CLOCK eviction: walks from the oldest insertion, giving a recently used entry a second chance. */
  private evict(): void {
    const { maxEntries, maxBytes } = this.options;
    while (this.entries.size > maxEntries || this.bytes > maxBytes) {
      const first = this.entries.entries().next();
      if (first.done) return;
      const [key, slot] = first.value;
      this.entries.delete(key);
      if (slot.used && slot.expiresAtMs > this.now()) {
        slot.used = false;
        this.entries.set(key, slot);
      } else {
        this.bytes -= slot.bytes;
        this.evictions += 1;
      }
    }
  }
}
