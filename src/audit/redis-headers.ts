/**
 * The auditor's Redis adapter: reads the headers of many keys in one script call per chunk (one
 * round trip per batch; on Redis Cluster one call per hash slot), through the guard's deadline and
 * error mapping. Read-only.
 */
import { readFileSync } from 'node:fs';
import type { GuardRedis } from '../cache/guard-scripts.js';
import { keySlot } from '../cache/key-slot.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, guardedCall } from '../cache/redis-calls.js';
import { ScriptError } from '../errors.js';
import type { HeaderReader } from './auditor.js';

/** State byte + 19 digits + ':' : the header never extends past byte 20. */
const HEADER_LAST_BYTE = 20;
const SCRIPT = readFileSync(new URL('./lua/readHeaders-n.lua', import.meta.url), 'utf8');

interface ReadHeadersCommand {
  outboxCacheReadHeadersBuffer(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<Buffer>;
}

/** {@link HeaderReader} over an ioredis client (single node or Cluster). */
export class RedisHeaderReader implements HeaderReader {
  readonly #redis: GuardRedis & ReadHeadersCommand;
  readonly #timeoutMs: number;
  readonly #keyPrefix: string;
  readonly #maxKeysPerCall: number;

  constructor(redis: GuardRedis, options: { readonly commandTimeoutMs?: number; readonly maxKeysPerCall?: number } = {}) {
    if (typeof (redis as unknown as Record<string, unknown>).outboxCacheReadHeaders !== 'function') {
      redis.defineCommand('outboxCacheReadHeaders', { lua: SCRIPT });
    }
    this.#redis = redis as GuardRedis & ReadHeadersCommand;
    this.#timeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.#maxKeysPerCall = options.maxKeysPerCall ?? 500;
    this.#keyPrefix = (redis.options as { keyPrefix?: string }).keyPrefix ?? '';
  }

  /** Headers of `keys`, in order. Rejects with a retriable ScriptError while Redis is unreachable. */
  async readHeaders(keys: readonly string[]): Promise<(Buffer | null)[]> {
    const out = new Array<Buffer | null>(keys.length).fill(null);
    await Promise.all(this.#chunks(keys).map(async (indexes) => {
      const chunk = indexes.map((i) => keys[i]!);
      const reply = await guardedCall(`read ${chunk.length} key header(s) starting at '${chunk[0]}'`, this.#timeoutMs, () =>
        this.#redis.outboxCacheReadHeadersBuffer(chunk.length, ...chunk, HEADER_LAST_BYTE));
      unpack(reply, indexes, out, chunk[0] ?? '');
    }));
    return out;
  }

  #chunks(keys: readonly string[]): number[][] {
    const groups = new Map<number, number[]>();
    keys.forEach((key, i) => {
      const slot = this.#redis.isCluster ? keySlot(this.#keyPrefix + key) : 0;
      const group = groups.get(slot);
      if (group) group.push(i);
      else groups.set(slot, [i]);
    });
    const out: number[][] = [];
    for (const group of groups.values()) {
      for (let start = 0; start < group.length; start += this.#maxKeysPerCall) out.push(group.slice(start, start + this.#maxKeysPerCall));
    }
    return out;
  }
}

/** Splits the script's packed reply (length byte + bytes, per key) into `out` at `indexes`. */
function unpack(reply: Buffer, indexes: readonly number[], out: (Buffer | null)[], firstKey: string): void {
  let pos = 0;
  for (const keyIndex of indexes) {
    const length = reply[pos];
    if (length === undefined || pos + 1 + length > reply.length) {
      throw new ScriptError(`read key headers starting at '${firstKey}': unexpected reply from Redis`, { code: 'REDIS_REPLY_INVALID' });
    }
    out[keyIndex] = length === 0 ? null : reply.subarray(pos + 1, pos + 1 + length);
    pos += 1 + length;
  }
}
