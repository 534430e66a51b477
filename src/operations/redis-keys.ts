/**
 * Redis plumbing shared by flush and backfill: SCAN of a namespace on every master (single node
 * or Cluster), and grouping of keys by hash slot (a script call may only touch keys of one slot).
 */
import { Cluster, type Redis } from 'ioredis';
import { keySlot } from '../cache/key-slot.js';

/** The SCAN pattern of every key `<keyPrefix><namespace>:*`, glob characters escaped. */
export function namespacePattern(keyPrefix: string, namespace: string): string {
  return `${`${keyPrefix}${namespace}:`.replace(/[\\*?[\]]/g, (c) => `\\${c}`)}*`;
}

/** Scans `pattern` on every master, yielding each SCAN step's keys (a key may repeat). */
export async function* scanKeys(redis: Redis | Cluster, pattern: string, count: number): AsyncGenerator<string[]> {
  const nodes: Redis[] = redis instanceof Cluster ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}

/**
 * Indexes of `keys` grouped so that each group can go into one script call: one group on a single
 * node, one per hash slot on a Cluster (the slot of the key with the client's own keyPrefix).
 */
export function slotGroups(redis: Redis | Cluster, keys: readonly string[]): number[][] {
  if (!(redis instanceof Cluster)) return keys.length === 0 ? [] : [keys.map((_k, i) => i)];
  const prefix = (redis.options as { keyPrefix?: string }).keyPrefix ?? '';
  const groups = new Map<number, number[]>();
  keys.forEach((key, i) => {
    const slot = keySlot(prefix + key);
    const group = groups.get(slot);
    if (group) group.push(i);
    else groups.set(slot, [i]);
  });
  return [...groups.values()];
}

/** Runs `call` once per slot group of `keys` and puts its per-key reply characters back in key order. */
export async function perKeyReplies(
  redis: Redis | Cluster, keys: readonly string[], call: (indexes: number[]) => Promise<string>,
): Promise<string[]> {
  const out = new Array<string>(keys.length).fill('');
  await Promise.all(slotGroups(redis, keys).map(async (indexes) => {
    const reply = await call(indexes);
    indexes.forEach((index, j) => (out[index] = reply[j] ?? ''));
  }));
  return out;
}
