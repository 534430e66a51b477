/**
 * Shared pieces of the end-to-end tests: concurrent writers through the outbox writer, concurrent
 * guarded readers that check every value they get, a ledger of committed and delivered versions,
 * and the final check of every cache key against the database.
 */
import type { Redis } from 'ioredis';
import type { Pool } from 'mysql2/promise';
import { createReadThrough } from '../../src/cache/read-through.js';
import { decodeStoredValue } from '../../src/cache/stored-value.js';
import type { WriterSchema } from '../../src/codec/types.js';
import type { OutboxEvent } from '../../src/outbox/event.js';
import { sleep } from '../../src/retry.js';
import { allProducts, loadProduct, productBytes, productKey, updateProduct, type ProductValue } from '../../src/demo/product-table.js';

/** Committed versions (with their values) and delivered versions, per product id. */
export class Ledger {
  /** `${id}:${version}` → the JSON bytes of the value committed at that version. */
  readonly values = new Map<string, string>();
  readonly delivered = new Set<string>();
  committedCount = 0;
  deliveredEvents = 0;

  /** Records the database's current rows as already committed (the seed versions). */
  async seed(pool: Pool): Promise<void> {
    for (const [id, p] of await allProducts(pool)) this.values.set(`${id}:${p.version}`, productBytes(p.value).toString());
  }

  committed(id: number, version: bigint, value: ProductValue): void {
    this.values.set(`${id}:${version}`, productBytes(value).toString());
    this.committedCount += 1;
  }

  /** Records the events an apply step received (the relay's or the sink's). */
  deliver(events: readonly OutboxEvent[]): void {
    for (const e of events) this.delivered.add(`${e.aggregateId}:${e.version}`);
    this.deliveredEvents += events.length;
  }

  /** Committed versions (above the seed's 1) that were never delivered. */
  undelivered(): string[] {
    return [...this.values.keys()].filter((k) => !k.endsWith(':1') && !this.delivered.has(k));
  }
}

/** Options of {@link runWriters}. */
export interface WritersOptions {
  readonly pool: Pool;
  readonly schema: WriterSchema;
  readonly aggregateType: string;
  readonly ids: readonly number[];
  readonly writers: number;
  readonly ledger: Ledger;
  /** Writers finish their current write and stop when this aborts. */
  readonly stop: AbortSignal;
  /** Pacing between a writer's writes, ms (keeps a run long enough for restarts). Default 5. */
  readonly pauseMs?: number;
}

/** Concurrent writers, each updating random products; half the events write through, half invalidate. */
export function runWriters(options: WritersOptions): Promise<void> {
  let n = 0;
  const one = async (w: number): Promise<void> => {
    for (let i = 0; !options.stop.aborted; i++) {
      const id = options.ids[Math.floor(Math.random() * options.ids.length)] as number;
      const change = { name: `w${w}-${i}-${n++}`, priceCents: Math.floor(Math.random() * 10_000) };
      const mode = Math.random() < 0.5 ? 'upsert' : 'invalidate';
      const { version, value } = await updateProduct(options.pool, id, change, options.schema, { mode, aggregateType: options.aggregateType });
      options.ledger.committed(id, version, value);
      await sleep(options.pauseMs ?? 5, options.stop);
    }
  };
  return Promise.all(Array.from({ length: options.writers }, (_, w) => one(w))).then(() => undefined);
}

/**
 * The closing round that makes a lost last event visible: read every key (filling the cache at
 * its current version), then write every key once more. If the event of that last write were
 * lost, the filled entry would stay behind the database and {@link cacheProblems} would report it.
 */
export async function fillThenWriteEveryKey(options: Omit<WritersOptions, 'writers' | 'stop' | 'pauseMs'> & { redis: Redis; keyPrefix: string }): Promise<void> {
  const cache = createReadThrough<ProductValue>({
    redis: options.redis, codec: 'json',
    loader: async (key) => loadProduct(options.pool, Number(key.slice(key.lastIndexOf(':') + 1))),
  });
  for (const id of options.ids) await cache.read(productKey(options.keyPrefix, id, options.aggregateType));
  for (const id of options.ids) {
    const { version, value } = await updateProduct(options.pool, id, { name: `last ${id}`, priceCents: id }, options.schema, { aggregateType: options.aggregateType });
    options.ledger.committed(id, version, value);
  }
}

/**
 * Concurrent guarded readers until `stop` aborts. Every value read (from Redis or the database)
 * must be exactly the value committed at the version it comes with; mismatches are collected.
 */
export function runReaders(options: {
  redis: Redis; pool: Pool; keyPrefix: string; aggregateType: string; ids: readonly number[]; readers: number; ledger: Ledger; stop: AbortSignal;
}): { done: Promise<void>; reads: () => number; mismatches: () => string[] } {
  const cache = createReadThrough<ProductValue>({
    redis: options.redis, codec: 'json',
    loader: async (key) => loadProduct(options.pool, Number(key.slice(key.lastIndexOf(':') + 1))),
  });
  const checked: { id: number; version: bigint; got: string | undefined; source: string }[] = [];
  let reads = 0;
  const one = async (): Promise<void> => {
    while (!options.stop.aborted) {
      const id = options.ids[Math.floor(Math.random() * options.ids.length)] as number;
      const result = await cache.read(productKey(options.keyPrefix, id, options.aggregateType));
      reads += 1;
      const got = result.value === undefined ? undefined : productBytes(result.value).toString();
      // Checked once the writers are done: a database read may see a commit before its writer returns.
      checked.push({ id, version: result.version, got, source: result.source });
      // Pacing, not synchronisation: leaves CPU to the writers, relay and sink.
      await sleep(1);
    }
  };
  const done = Promise.all(Array.from({ length: options.readers }, one)).then(() => undefined);
  const mismatches = (): string[] => checked
    .filter((c) => c.got !== options.ledger.values.get(`${c.id}:${c.version}`))
    .map((c) => `${c.id} v${c.version} from ${c.source}: ${c.got} != ${options.ledger.values.get(`${c.id}:${c.version}`)}`);
  return { done, reads: () => reads, mismatches };
}

/**
 * Every product's cache key must be absent, a tombstone, or an entry holding exactly the
 * database's current version and value. Returns the keys that are not (empty: all good).
 */
export async function cacheProblems(redis: Redis, pool: Pool, keyPrefix: string, aggregateType: string): Promise<string[]> {
  const products = await allProducts(pool);
  const ids = [...products.keys()];
  const raw = await redis.mgetBuffer(...ids.map((id) => productKey(keyPrefix, id, aggregateType)));
  const problems: string[] = [];
  ids.forEach((id, i) => {
    const stored = decodeStoredValue(raw[i]);
    const db = products.get(id);
    if (!stored || stored.state === 'tombstone' || !db) return;
    const same = stored.state === 'entry' && stored.version === db.version && stored.data.equals(productBytes(db.value));
    if (!same) problems.push(`${id}: cache ${stored.state} v${stored.version}, database v${db.version}`);
  });
  return problems;
}
