/**
 * A random-interleaving model for the guard's property tests: commits of one aggregate (versions
 * 1..n, each an upsert, invalidate or delete), sink deliveries that repeat and arrive in any
 * order, single deliveries or batches, and readers that read the database at some point and fill
 * later. Run against a backend (the TypeScript rule or the Lua scripts on Redis), it checks after
 * every step that the stored version never decreases and never pairs a version with another
 * version's data, and at the end that the state is the one implied by the highest version.
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
  | { readonly t: 'fill'; readonly reader: number };

/** A schedule: steps, then the order in which every commit is delivered once more at the end. */
export interface Schedule {
  readonly steps: readonly Step[];
  readonly finalOrder: readonly number[];
}

/** What the model drives: the sink's batch apply, a reader's fill, and the stored state. */
export interface GuardBackend {
  apply(actions: CacheAction[]): Promise<void>;
  /** A reader that read `version` (value null: row absent) fills now. */
  fill(version: bigint, value: Buffer | null): Promise<void>;
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
    ),
    { minLength: 1, maxLength: 25 },
  ),
  finalOrder: fc.array(fc.nat(), { minLength: 30, maxLength: 30 }),
});

const valueOf = (version: bigint) => Buffer.from(`value@${version}`);

/** Runs `schedule` on `backend` for cache key `key`, asserting the invariants. */
export async function runSchedule(backend: GuardBackend, key: string, schedule: Schedule): Promise<void> {
  const commits: Kind[] = [];
  const readers = new Map<number, { version: bigint; value: Buffer | null }>();
  let lastVersion = -1n;
  const action = (version: bigint): CacheAction => {
    const kind = commits[Number(version) - 1] ?? 'upsert';
    return kind === 'upsert' ? { kind, key, version, value: valueOf(version) } : { kind, key, version };
  };
  const check = async (): Promise<StoredValue | undefined> => {
    const stored = await backend.stored();
    const version = stored?.version ?? -1n;
    expect(version).toBeGreaterThanOrEqual(lastVersion);
    lastVersion = version;
    if (stored?.state === 'entry') expect(stored.data.toString()).toBe(valueOf(stored.version).toString());
    if (stored?.state === 'absent' && stored.version > 0n) expect(commits[Number(stored.version) - 1]).toBe('delete');
    return stored;
  };
  for (const step of schedule.steps) {
    if (step.t === 'commit') commits.push(step.kind);
    else if (step.t === 'deliver' && commits.length > 0) {
      await backend.apply(step.picks.map((p) => action(BigInt((p % commits.length) + 1))));
    } else if (step.t === 'read') {
      // The database at this moment: the last commit, or no row before the first one.
      const version = BigInt(commits.length);
      const absent = version === 0n || commits[commits.length - 1] === 'delete';
      readers.set(step.reader, absent ? { version: 0n, value: null } : { version, value: valueOf(version) });
    } else if (step.t === 'fill') {
      const read = readers.get(step.reader);
      readers.delete(step.reader);
      if (read) await backend.fill(read.version, read.value);
    }
    await check();
  }
  for (const read of readers.values()) await backend.fill(read.version, read.value);
  const n = commits.length;
  if (n === 0) return;
  const order = Array.from({ length: n }, (_v, i) => i + 1).sort(
    (a, b) => (schedule.finalOrder[a - 1] ?? 0) - (schedule.finalOrder[b - 1] ?? 0),
  );
  await backend.apply(order.map((v) => action(BigInt(v))));
  const final = await check();
  const top = BigInt(n);
  const kind = commits[n - 1];
  expect(final?.version).toBe(top);
  if (kind === 'upsert') expect(final?.state).toBe('entry');
  if (kind === 'delete') expect(final?.state).toBe('absent');
  // After an invalidate, a reader that read the top version may have filled over the tombstone.
  if (kind === 'invalidate') expect(['tombstone', 'entry']).toContain(final?.state);
}
