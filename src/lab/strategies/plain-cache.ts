/**
 * The plain Redis cache the seed strategies share, as their articles write it: a JSON string
 * `{"v":"<version>","d":{...}}` under `<prefix>item:<id>`, read with GET, filled with SET PX,
 * dropped with DEL. No guard: whatever SET runs last wins. The version travels with the value
 * only so that the lab can measure staleness; none of these strategies looks at it.
 */
import type { Redis } from 'ioredis';
import type { ItemValue, LoadedItem } from '../item-table.js';
import { itemKey } from '../item-table.js';
import type { KeyState, StrategyContext, StrategyRead } from '../strategy.js';

interface PlainEntry {
  readonly v: string;
  readonly d: ItemValue;
}

/** The plain cache of one strategy: key naming, GET/SET/DEL and the read-through most seeds use. */
export class PlainCache {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly ttlMs: number,
  ) {}

  key(id: number): string {
    return itemKey(this.keyPrefix, id);
  }

  async get(id: number): Promise<LoadedItem | undefined> {
    const text = await this.redis.get(this.key(id));
    if (text === null) return undefined;
    const entry = JSON.parse(text) as PlainEntry;
    return { version: BigInt(entry.v), value: entry.d };
  }

  async set(item: LoadedItem): Promise<void> {
    const entry: PlainEntry = { v: item.version.toString(), d: item.value };
    await this.redis.set(this.key(item.value.id), JSON.stringify(entry), 'PX', this.ttlMs);
  }

  async del(id: number): Promise<void> {
    await this.redis.del(this.key(id));
  }

  /**
   * Cache-aside's read: GET; on a miss read the database and SET what was read. (The pause
   * between the read and the SET is inside `ctx.load`.)
   */
  async readThrough(ctx: Pick<StrategyContext, 'load'>, id: number): Promise<StrategyRead> {
    const cached = await this.get(id);
    if (cached) return { hit: true, version: cached.version };
    const loaded = await ctx.load(id);
    await this.set(loaded);
    return { hit: false, version: loaded.version };
  }

  /** The version each key holds, read with `redis` (entries only; a missing key is `missing`). */
  async peek(ids: readonly number[], redis: Redis): Promise<Map<number, KeyState>> {
    const raw = ids.length ? await redis.mget(...ids.map((id) => this.key(id))) : [];
    const out = new Map<number, KeyState>();
    ids.forEach((id, i) => {
      const text = raw[i];
      out.set(id, text ? { state: 'entry', version: BigInt((JSON.parse(text) as PlainEntry).v) } : { state: 'missing' });
    });
    return out;
  }
}

/** A cache for `ctx` with its prefix and entry TTL. */
export function plainCacheOf(ctx: StrategyContext, ttlMs = ctx.entryTtlMs): PlainCache {
  return new PlainCache(ctx.redis, ctx.keyPrefix, ttlMs);
}
