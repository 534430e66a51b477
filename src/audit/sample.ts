/**
 * Sampling without a stream (`outbox-cache audit sample`): SCAN the cached keys of some
 * namespaces at a bounded rate, read each key's header, and for entries and known-absent values
 * ask the database for the row's version through the operator's query. A key holding a version
 * older than the database's is stale (the same rule as the stream check); with repair it gets a
 * tombstone at the database's version through the guard. Tombstones, leases and newer versions
 * need no query.
 */
import type { Cluster, Redis } from 'ioredis';
import type { CacheWriter } from '../cache/actions.js';
import type { Logger } from '../ops/logger.js';
import { sleep } from '../retry.js';
import type { HeaderReader } from './auditor.js';
import { classify, type FoundState } from './check.js';

/** A stale key found by sampling. */
export interface StaleKey {
  readonly key: string;
  readonly found: FoundState;
  readonly cachedVersion: string;
  readonly databaseVersion: string;
  repaired: boolean;
}

/** What one sampling run found, per namespace and in total. */
export interface SampleResult {
  scanned: number;
  /** Entries and known-absent values compared with the database. */
  compared: number;
  /** Compared keys whose row the query did not find (reported, never repaired: there is no version to write). */
  rowMissing: number;
  readonly stale: StaleKey[];
  repaired: number;
}

/** What {@link sampleKeys} needs. */
export interface SampleOptions {
  readonly redis: Redis | Cluster;
  readonly reader: HeaderReader;
  readonly keyPrefix: string;
  /** Per namespace: the row's version for an id, or undefined when there is no such row. */
  readonly namespaces: readonly string[];
  readonly versionOf: (namespace: string, id: string) => Promise<bigint | undefined>;
  readonly keysPerSecond: number;
  /** Per namespace; 0 = all. */
  readonly maxKeys: number;
  readonly repair?: CacheWriter;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/** Samples every namespace in turn; stops early (with what it found) when `signal` aborts. */
export async function sampleKeys(options: SampleOptions): Promise<SampleResult> {
  const result: SampleResult = { scanned: 0, compared: 0, rowMissing: 0, stale: [], repaired: 0 };
  const started = Date.now();
  for (const namespace of options.namespaces) {
    const head = `${options.keyPrefix}${namespace}:`;
    let inNamespace = 0;
    for await (const keys of scanKeys(options.redis, `${escapeGlob(head)}*`, options.signal)) {
      const batch = options.maxKeys > 0 ? keys.slice(0, options.maxKeys - inNamespace) : keys;
      inNamespace += batch.length;
      await compare(batch, head.length, namespace, options, result);
      result.scanned += batch.length;
      // Bounded rate: never ahead of keysPerSecond since the start.
      const aheadMs = (result.scanned / options.keysPerSecond) * 1000 - (Date.now() - started);
      if (aheadMs > 0) await sleep(aheadMs, options.signal);
      if (options.signal.aborted || (options.maxKeys > 0 && inNamespace >= options.maxKeys)) break;
    }
    if (options.signal.aborted) break;
  }
  return result;
}

async function compare(keys: readonly string[], idStart: number, namespace: string, options: SampleOptions, result: SampleResult): Promise<void> {
  if (keys.length === 0) return;
  const headers = await options.reader.readHeaders(keys);
  const stale: { item: StaleKey; version: bigint }[] = [];
  for (const [i, key] of keys.entries()) {
    const header = headers[i];
    const state = header?.[0];
    // Only entries (E) and known-absent values (A) can serve a version; nothing else needs a query.
    if (state !== 0x45 && state !== 0x41) continue;
    result.compared += 1;
    const dbVersion = await options.versionOf(namespace, key.slice(idStart));
    if (dbVersion === undefined) {
      result.rowMissing += 1;
      continue;
    }
    const outcome = classify(dbVersion, header, 0, 0);
    if (outcome.result === 'consistent') continue;
    const found: StaleKey = { key, found: outcome.found, cachedVersion: String(outcome.foundVersion), databaseVersion: dbVersion.toString(), repaired: false };
    result.stale.push(found);
    stale.push({ item: found, version: dbVersion });
    options.logger.warn({ key, found: found.found, cachedVersion: found.cachedVersion, databaseVersion: found.databaseVersion }, 'stale cache key');
  }
  if (!options.repair || stale.length === 0) return;
  const outcomes = await options.repair.applyBatch(stale.map(({ item, version }) => ({ kind: 'invalidate', key: item.key, version })));
  outcomes.forEach((outcome, i) => {
    const { item, version } = stale[i]!;
    options.logger.warn({ key: item.key, version: version.toString(), outcome }, 'repair: tombstone at the database version');
    if (outcome === 'applied') {
      item.repaired = true;
      result.repaired += 1;
    }
  });
}

/** SCAN batches of keys matching `pattern` (on a Cluster, on every master in turn). */
async function* scanKeys(redis: Redis | Cluster, pattern: string, signal: AbortSignal): AsyncGenerator<string[]> {
  const nodes: Redis[] = redis.isCluster ? (redis as Cluster).nodes('master') : [redis as Redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      if (signal.aborted) return;
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 100);
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}

/** `pattern` with Redis glob characters escaped, so a prefix matches literally. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
