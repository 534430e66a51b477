/**
 * Where a backfill resumes: the last primary key of the last finished batch, stored in Redis
 * under `<keyPrefix>__outbox-cache:backfill:<namespace>` (outside every `<namespace>:*` key space,
 * and not in the guard's layout, so a flush leaves it alone), with what the scan was, so a resume
 * never continues a different scan. Deleted when the backfill completes.
 */
import type { Cluster, Redis } from 'ioredis';
import type { BackfillSpec } from './backfill-spec.js';

/** A stored cursor. */
export interface BackfillCursor {
  /** Identity of the scan: table, primary key, where, mode, key template. */
  readonly scan: string;
  /** The last primary key done (JSON: number or text). */
  readonly after: string | number;
  /** Rows done before this point. */
  readonly rows: number;
}

/** The Redis key of a namespace's cursor. */
export function cursorKey(keyPrefix: string, namespace: string): string {
  return `${keyPrefix}__outbox-cache:backfill:${namespace}`;
}

/** Identity of a scan: a cursor only resumes the same scan by the same command (`tag`). */
export function scanIdentity(spec: BackfillSpec, tag = 'backfill'): string {
  return JSON.stringify([tag, spec.table, spec.pk, spec.where ?? null, spec.mode, spec.key]);
}

/** Reads the stored cursor (undefined when none, or not this module's). */
export async function loadCursor(redis: Redis | Cluster, key: string): Promise<BackfillCursor | undefined> {
  const text = await redis.get(key);
  if (text === null) return undefined;
  try {
    const value = JSON.parse(text) as Partial<BackfillCursor>;
    if (typeof value.scan !== 'string' || (typeof value.after !== 'string' && typeof value.after !== 'number') || typeof value.rows !== 'number') return undefined;
    return value as BackfillCursor;
  } catch {
    return undefined;
  }
}

/** Stores `cursor` (kept 30 days, so a forgotten one does not live forever). */
export async function saveCursor(redis: Redis | Cluster, key: string, cursor: BackfillCursor): Promise<void> {
  await redis.set(key, JSON.stringify(cursor), 'PX', 30 * 86_400_000);
}

/** Forgets the cursor. */
export async function deleteCursor(redis: Redis | Cluster, key: string): Promise<void> {
  await redis.del(key);
}
