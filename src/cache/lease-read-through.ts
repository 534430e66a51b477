/**
 * Read path for keys without a per-aggregate version (derived keys spanning aggregates). Since
 * guard v2 every key goes through the same leases (see read-through.ts); this is the same read
 * path with version 0 for every value: a miss takes a lease (floor 0), the fill must still hold
 * it, and the sink's `revoke-leases` action deletes the key, revoking every lease, so a reader
 * that began before an invalidation can never fill.
 */
import { createReadPath, type ReadPathOptions, type ReadResult } from './read-through.js';
import type { CodecValue, ReadCodecName } from './read-codec.js';

/** Options of {@link createLeaseReadThrough}. */
export interface LeaseReadThroughOptions<C extends ReadCodecName, T> extends ReadPathOptions {
  /** How values are stored: `json` or `bytes`. */
  readonly codec: C;
  /** Computes the value from the database; null when there is none (cached as known absent). */
  readonly loader: (key: string) => Promise<{ readonly value: T } | null>;
}

/** A lease-guarded read-through cache for keys without a per-aggregate version. */
export interface LeaseReadThrough<T> {
  /** The value for `key` (undefined when absent), from Redis or the database. */
  get(key: string, options?: { readonly allowStaleMs?: number }): Promise<T | undefined>;
  /** Like get, with where the value came from and what the fill did (version is always 0n). */
  read(key: string, options?: { readonly allowStaleMs?: number }): Promise<ReadResult<T>>;
}

/**
 * Creates a read-through cache for version-less keys: {@link createReadThrough}'s read path with
 * version 0. Throws ConfigError for invalid options.
 */
export function createLeaseReadThrough<T>(options: LeaseReadThroughOptions<'json', T>): LeaseReadThrough<T>;
export function createLeaseReadThrough(options: LeaseReadThroughOptions<'bytes', Buffer>): LeaseReadThrough<Buffer>;
export function createLeaseReadThrough<C extends ReadCodecName>(
  options: LeaseReadThroughOptions<C, CodecValue<C>>,
): LeaseReadThrough<CodecValue<C>> {
  const loader = options.loader;
  // The loader's own name, not this wrapper's, in errors.
  const load = async (key: string): Promise<unknown> => {
    const loaded = await loader(key);
    return loaded === null || loaded === undefined ? loaded : { value: loaded.value };
  };
  return createReadPath<CodecValue<C>>({ ...options, name: options.name ?? (loader.name || 'loader') }, { load, versioned: false });
}
