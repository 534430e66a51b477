/**
 * `rebuild`: the recovery when Redis may hold states older than the database that no event will
 * ever correct (the relay's or the connector's position was lost and restarted later, or Redis
 * was restored from an old snapshot). Order matters:
 *   1. flush: every entry/absent/lease of the namespace becomes a tombstone at its own version,
 *      so nothing old is served any more, and the floors survive (a fill that read before the
 *      flush is refused);
 *   2. backfill: every row is filled through the guard, leases taken over those tombstones, rows
 *      read after the leases; a sink write during the backfill wins over it.
 * The other order would let the flush destroy the backfill's fresh entries, or (a backfill alone)
 * leave old entries of rows it does not see (deleted, filtered, other tables). The sink (or relay)
 * must already be running again from its new position, so no write after the rebuild is lost.
 * A backfill resumed by a second run does not flush again: its tombstones and fills stand.
 */
import { resolveCacheTtl } from '../cache/cache-ttl.js';
import { backfillNamespace, type BackfillOptions, type BackfillResult } from './backfill.js';
import { cursorKey, loadCursor, scanIdentity } from './backfill-cursor.js';
import { flushNamespace, type FlushOptions, type FlushResult } from './flush.js';

/** Options of {@link rebuildNamespace}: the backfill's, and the flush's rate. */
export interface RebuildOptions extends BackfillOptions {
  /** Most keys per second the flush turns into tombstones; undefined: no limit. */
  readonly flushKeysPerSecond?: number;
  readonly onFlushProgress?: FlushOptions['onProgress'];
}

/** What {@link rebuildNamespace} did; `flush` is undefined when a stored backfill cursor was resumed. */
export interface RebuildResult {
  readonly flush?: FlushResult;
  readonly backfill?: BackfillResult;
  readonly aborted: boolean;
}

/** Flushes the namespace, then backfills it (or resumes an interrupted rebuild's backfill). */
export async function rebuildNamespace(o: RebuildOptions): Promise<RebuildResult> {
  const prefix = o.keyPrefix ?? '';
  const stored = o.resume === false ? undefined : await loadCursor(o.redis, cursorKey(prefix, o.spec.namespace));
  let flush: FlushResult | undefined;
  // Only a rebuild's own cursor skips the flush (a plain backfill's leftover cursor does not).
  if (stored?.scan !== scanIdentity(o.spec, 'rebuild')) {
    flush = await flushNamespace({
      redis: o.redis, namespace: o.spec.namespace, keyPrefix: prefix, tombstoneTtlMs: resolveTombstoneTtl(o),
      keysPerSecond: o.flushKeysPerSecond, signal: o.signal, onProgress: o.onFlushProgress,
    });
    if (flush.aborted) return { flush, aborted: true };
  }
  const backfill = await backfillNamespace({ ...o, resume: flush === undefined, cursorTag: 'rebuild' });
  return { flush, backfill, aborted: backfill.aborted };
}

function resolveTombstoneTtl(o: RebuildOptions): number {
  return resolveCacheTtl(o.ttl).tombstoneTtlMs;
}
