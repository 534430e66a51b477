/**
 * A random-interleaving model for the guard's property tests (guard v2): commits of one aggregate
 * (versions 1..n, each an upsert, invalidate or delete), sink deliveries that repeat and arrive
 * in any order, readers that take a lease and read the database at one point and fill (or give
 * the lease back) later, and evictions (DEL) at any point. Run against a backend (the TypeScript
 * rule or the Lua scripts on Redis), it checks after every step that
 * - an entry's data is its own version's, kept bytes too, and "known absent" stands for a delete;
 * - a fill never stores a version below the highest the sink applied (unless the sink itself
 *   went back, replaying an old event over an evicted key, which only a later delivery repairs);
 * - without evictions, the version of the entry/absent/tombstone never decreases;
 * and at the end, after every commit is delivered once more and every pending reader filled,
 * that the state is the one implied by the highest version: never an older entry.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { CacheAction } from '../../src/cache/actions.js';
import type { StoredValue } from '../../src/cache/stored-value.js';

type Kind = 'upsert' | 'invalidate' | 'delete';

/** One step of a schedule. Indexes are taken modulo what exists when the step runs. */
export type Step =
  | { readonly t: 'commit'; readonly kind: Kind }
  | { readonly t: 'deliver'; readonly picks: readonly number[] }
  | { readonly t: 'read'; readonly reader: number }
  | { readonly t: 'fill'; readonly reader: number }
  | { readonly t: 'release'; readonly reader: number }
  | { readonly t: 'evict' };

/** A schedule: steps, then the order in which every commit is delivered once more at the end. */
export interface Schedule {
  readonly steps: readonly Step[];
  readonly finalOrder: readonly number[];
  /** Whether the sink keeps invalidated bytes in tombstones. */
  readonly keepBytes: boolean;
}

/** What the model drives: the sink's batch apply, a reader's lease, fill and release, eviction. */
export interface GuardBackend {
  /** Applies the actions in order; returns one outcome per action. */
  apply(actions: CacheAction[]): Promise<('applied' | 'stale')[]>;
  /** A reader takes lease `token` if it can. */
  acquire(token: string): Promise<void>;
  /** A reader holding `token` (maybe no longer) that read `version` (value null: absent) fills now. */
  fill(version: bigint, value: Buffer | null, token: string): Promise<'applied' | 'stale'>;
  release(token: string): Promise<void>;
  /** Redis drops the key (maxmemory eviction, restart, flush). */
  evict(): Promise<void>;
  stored(): Promise<StoredValue | undefined>;
}

/** fast-check arbitrary of schedules. */
export const scheduleArb: fc.Arbitrary<Schedule> = fc.record({
  steps: fc.array(
    fc.oneof(
      { weight: 3, arbitrary: fc.record({ t: fc.constant('commit' as const), kind: fc.constantFrom<Kind>('upsert', 'invalidate', 'delete') }) },
      { weight: 3, arbitrary: fc.record({ t: fc.constant('deliver' as const), picks: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }) }) },
      { weight: 2, arbitrary: fc.record({ t: fc.constant('read' as const), reader: fc.nat(2) }) },
      { weight: 2, arbitrary: fc.record({ t: fc.constant('fill' as const), reader: fc.nat(2) }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant('release' as const), reader: fc.nat(2) }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant('evict' as const) }) },
    ),
    { minLength: 1, maxLength: 30 },
  ),
  finalOrder: fc.array(fc.nat(), { minLength: 30, maxLength: 30 }),
  keepBytes: fc.boolean(),
});

const valueOf = (version: bigint) => Buffer.from(`value@${version}`);

interface PendingRead {
  readonly token: string;
  readonly version: bigint;
  readonly value: Buffer | null;
}

/** Runs `schedule` on `backend` for cache key `key`, asserting the invariants. */
export async function runSchedule(backend: GuardBackend, key: string, schedule: Schedule): Promise<void> {
  const commits: Kind[] = [];
  const readers = new Map<number, PendingRead>();
  let tokens = 0;
  let maxApplied = 0n;
  let sinkWentBack = false;
  let evicted = false;
  let lastVersion = -1n;
  const action = (version: bigint): CacheAction => {
    const kind = commits[Number(version) - 1] ?? 'upsert';
    return kind === 'upsert' ? { kind, key, version, value: valueOf(version) } : { kind, key, version };
  };
  const apply = async (actions: CacheAction[]): Promise<void> => {
    const outcomes = await backend.apply(actions);
    actions.forEach((a, i) => {
      if (outcomes[i] !== 'applied' || a.kind === 'revoke-leases') return;
      if (a.version >= maxApplied) [maxApplied, sinkWentBack] = [a.version, false];
      else sinkWentBack = true;
    });
  };
  const fill = async (read: PendingRead): Promise<void> => {
    const outcome = await backend.fill(read.version, read.value, read.token);
    if (outcome === 'applied' && !sinkWentBack) expect(read.version).toBeGreaterThanOrEqual(maxApplied);
  };
  const check = async (): Promise<StoredValue | undefined> => {
    const stored = await backend.stored();
    if (stored?.state === 'entry') expect(stored.data.toString()).toBe(valueOf(stored.version).toString());
    if (stored?.stale) expect(stored.stale.data.toString()).toBe(valueOf(stored.stale.version).toString());
    if (stored?.state === 'absent' && stored.version > 0n) expect(commits[Number(stored.version) - 1]).toBe('delete');
    if (stored && stored.state !== 'lease' && !evicted) {
      expect(stored.version).toBeGreaterThanOrEqual(lastVersion);
      lastVersion = stored.version;
    }
    return stored;
  };
  for (const step of schedule.steps) {
    if (step.t === 'commit') commits.push(step.kind);
    else if (step.t === 'deliver' && commits.length > 0) {
      await apply(step.picks.map((p) => action(BigInt((p % commits.length) + 1))));
    } else if (step.t === 'read') {
      const token = `tok${tokens++}`;
      await backend.acquire(token);
      // The database right after the lease: the last commit, or no row before the first one.
      const version = BigInt(commits.length);
      const absent = version === 0n || commits[commits.length - 1] === 'delete';
      readers.set(step.reader, { token, version, value: absent ? null : valueOf(version) });
    } else if (step.t === 'fill' || step.t === 'release') {
      const read = readers.get(step.reader);
      readers.delete(step.reader);
      if (read && step.t === 'fill') await fill(read);
      if (read && step.t === 'release') await backend.release(read.token);
    } else if (step.t === 'evict') {
      await backend.evict();
      evicted = true;
    }
    await check();
  }
  const n = commits.length;
  const order = Array.from({ length: n }, (_v, i) => i + 1).sort(
    (a, b) => (schedule.finalOrder[a - 1] ?? 0) - (schedule.finalOrder[b - 1] ?? 0),
  );
  if (n > 0) await apply(order.map((v) => action(BigInt(v))));
  for (const read of readers.values()) await fill(read);
  const final = await check();
  if (n === 0) return;
  const top = BigInt(n);
  const kind = commits[n - 1];
  expect(final?.version).toBe(top);
  if (kind === 'upsert') expect(final?.state).toBe('entry');
  if (kind === 'delete') expect(final?.state).toBe('absent');
  // After an invalidate, a reader that took its lease over that tombstone may have filled the top version.
  if (kind === 'invalidate') expect(['tombstone', 'entry', 'lease']).toContain(final?.state);
}
