/**
 * Redis Cluster: a real three-node cluster (three redis-server processes with cluster-enabled,
 * joined by `redis-cli --cluster create`), started and stopped by this file. Checks the slot
 * computation against CLUSTER KEYSLOT and that batches spanning every node apply correctly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from 'ioredis';
import type { CacheAction } from '../../src/cache/actions.js';
import { keySlot } from '../../src/cache/key-slot.js';
import { createLeaseReadThrough } from '../../src/cache/lease-read-through.js';
import { createReadThrough } from '../../src/cache/read-through.js';
import { RedisCacheWriter } from '../../src/cache/redis-cache-writer.js';
import { startLocalCluster, type LocalCluster } from './local-cluster.js';

let local: LocalCluster;
let cluster: Cluster;

beforeAll(async () => {
  local = await startLocalCluster();
  cluster = local.cluster;
}, 60_000);
afterAll(async () => {
  await local?.stop();
});

describe('Redis Cluster (3 nodes)', () => {
  it('computes the hash slot exactly as the cluster does, hash tags included', async () => {
    const keys = ['a', 'user:1', 'user:{42}:profile', '{}x', 'x{}y', '{a}{b}', 'é:ü:☃', 'k'.repeat(300), '{user1000}.following'];
    for (const key of keys) {
      expect(keySlot(key), key).toBe(Number(await cluster.call('CLUSTER', 'KEYSLOT', key)));
    }
  });

  it('applies a batch spanning every node, grouped by slot, with per-action outcomes in order', async () => {
    const writer = new RedisCacheWriter({ redis: cluster, maxKeysPerCall: 3 });
    const actions: CacheAction[] = [];
    for (let i = 0; i < 300; i++) {
      actions.push({ kind: 'upsert', key: `c:${i % 150}`, version: BigInt(1 + (i % 7)), value: Buffer.from(`v${i}`) });
    }
    actions.push({ kind: 'invalidate', key: '{tag}:a', version: 2n }, { kind: 'delete', key: '{tag}:b', version: 3n });
    const outcomes = await writer.applyBatch(actions);
    // Keys repeat at i and i+150 with versions i%7+1 and (i+150)%7+1: the second applies iff higher.
    actions.slice(0, 150).forEach((_a, i) => {
      expect(outcomes[i]).toBe('applied');
      expect(outcomes[i + 150]).toBe(((i + 150) % 7) > (i % 7) ? 'applied' : 'stale');
    });
    expect(outcomes.slice(300)).toEqual(['applied', 'applied']);
    const expected = (i: number) => ((i + 150) % 7 > i % 7 ? `E${((i + 150) % 7) + 1}:v${i + 150}` : `E${(i % 7) + 1}:v${i}`);
    for (const i of [0, 1, 2, 3, 77, 149]) expect(await cluster.get(`c:${i}`)).toBe(expected(i));
    expect(await cluster.get('{tag}:a')).toBe('T2:');
    // Every master holds some of the keys: the batch really spanned the cluster.
    const sizes = await Promise.all(cluster.nodes('master').map((node) => node.dbsize()));
    expect(sizes).toHaveLength(3);
    for (const size of sizes) expect(size).toBeGreaterThan(0);
  });

  it('reads through and fills on the node of each key, version guard and leases alike', async () => {
    const cache = createReadThrough<string>({ redis: cluster, codec: 'json', loader: async (key) => ({ version: 5n, value: key }) });
    const keys = Array.from({ length: 30 }, (_v, i) => `r:${i}`);
    expect(await Promise.all(keys.map((k) => cache.get(k)))).toEqual(keys);
    expect(await cluster.get('r:7')).toBe('E5:"r:7"');
    const lease = createLeaseReadThrough<string>({ redis: cluster, codec: 'json', loader: async () => ({ value: 'derived' }) });
    expect(await lease.read('d:1')).toMatchObject({ fill: 'filled' });
    expect(await new RedisCacheWriter({ redis: cluster }).applyBatch([{ kind: 'revoke-leases', key: 'd:1' }])).toEqual(['applied']);
    expect(await cluster.exists('d:1')).toBe(0);
  });
});
