/**
 * The L1 invalidation path on real Redis: the writer's apply script publishes in the same call
 * that changes the key, the process's subscriber drops L1 entries below the new version, and a
 * lost subscription clears L1 before it serves again. Single node (the test server) and a real
 * three-node Cluster (sharded channels, one per slot).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Redis, type Cluster } from 'ioredis';
import { createReadThrough } from '../../../src/cache/read-through.js';
import { RedisCacheWriter } from '../../../src/cache/redis-cache-writer.js';
import { L1Store } from '../../../src/cache/l1/l1-store.js';
import { l1SubscriberFor } from '../../../src/cache/l1/l1-subscriber.js';
import type { GuardRedis } from '../../../src/cache/guard-scripts.js';
import { createTestRedis, uniqueName, waitUntil } from '../../helpers.js';
import { killSubscriber } from './l1-helpers.js';
import { startLocalCluster, type LocalCluster } from '../local-cluster.js';

const { prefix } = createTestRedis();
// Its own key prefix (and so its own invalidation channel) and connection name: other test files
// publish on the same server, and this file kills its own subscriber connection.
const redis = new Redis(inject('redisUrl'), { keyPrefix: prefix, connectionName: uniqueName('l1sub') });
let local: LocalCluster;

beforeAll(async () => {
  local = await startLocalCluster();
}, 60_000);
afterAll(async () => {
  redis.disconnect();
  await local?.stop();
});

function filled(store: L1Store<string>, key: string, version: bigint): void {
  expect(store.completeFill(store.beginFill(key), version, `v${version}`, 2)).toBe(true);
}

async function invalidationsReachL1(client: GuardRedis, keyPrefix: string): Promise<void> {
  const writer = new RedisCacheWriter({ redis: client });
  const store = new L1Store<string>();
  const subscriber = l1SubscriberFor(client);
  const unregister = subscriber.register(store);
  const keys = Array.from({ length: 40 }, (_v, i) => `${keyPrefix}user:${i}`);
  await Promise.all(keys.map((k) => subscriber.ensure(k)));
  for (const k of keys) {
    expect(subscriber.isLive(k)).toBe(true);
    filled(store, k, 5n);
  }
  // At or below the entry's version: kept. Above: dropped, within the delivery bound.
  await writer.applyBatch(keys.map((key) => ({ kind: 'invalidate', key, version: 5n })));
  await writer.applyBatch(keys.map((key) => ({ kind: 'upsert', key, version: 6n, value: Buffer.from('x') })));
  await waitUntil('every L1 entry dropped', () => keys.every((k) => store.get(k) === undefined), 2_000);
  filled(store, keys[0]!, 6n);
  await writer.applyBatch([{ kind: 'revoke-leases', key: keys[0]! }]);
  await waitUntil('revocation reaches L1', () => store.get(keys[0]!) === undefined, 2_000);
  expect(subscriber.stats().invalidations).toBeGreaterThanOrEqual(keys.length);
  await unregister();
}

describe('L1 invalidations on a single node', () => {
  it('reach the L1 from the apply script itself, and only drop entries below the new version', async () => {
    await invalidationsReachL1(redis, '');
  });

  it('clears the L1 when the subscription is lost, and serves again only after resubscribing', async () => {
    const store = new L1Store<string>();
    const subscriber = l1SubscriberFor(redis);
    const unregister = subscriber.register(store);
    const key = 'lost';
    await subscriber.ensure(key);
    filled(store, key, 1n);
    const inFlight = store.beginFill('other');
    await killSubscriber(redis);
    await waitUntil('L1 cleared after the subscriber connection closed', () => store.get(key) === undefined, 5_000);
    expect(subscriber.isLive(key)).toBe(false);
    expect(store.completeFill(inFlight, 1n, 'v', 1)).toBe(false);
    await subscriber.ensure(key);
    expect(subscriber.isLive(key)).toBe(true);
    expect(subscriber.stats().resets).toBeGreaterThanOrEqual(1);
    await unregister();
  });

  it('announces nothing when the writer is told not to', async () => {
    const writer = new RedisCacheWriter({ redis, announceInvalidations: false });
    const store = new L1Store<string>();
    const subscriber = l1SubscriberFor(redis);
    const unregister = subscriber.register(store);
    const key = 'quiet';
    await subscriber.ensure(key);
    const before = subscriber.stats().messages;
    await writer.applyBatch([{ kind: 'invalidate', key, version: 3n }]);
    // A marker published after the write arrives after any message the write could have sent.
    await new RedisCacheWriter({ redis }).applyBatch([{ kind: 'invalidate', key: 'marker', version: 1n }]);
    await waitUntil('marker delivered', () => subscriber.stats().messages === before + 1, 2_000);
    await unregister();
  });
});

describe('L1 invalidations on Redis Cluster (sharded channels)', () => {
  it('reach the L1 for keys on every node', async () => {
    const cluster: Cluster = local.cluster;
    await invalidationsReachL1(cluster, '');
    const masters = cluster.nodes('master');
    expect(masters.length).toBe(3);
  });

  it('serves the read path from L1 and drops what the sink changes, for keys on every node', async () => {
    const cluster: Cluster = local.cluster;
    const versions = new Map<string, bigint>();
    const cache = createReadThrough<string>({
      redis: cluster, codec: 'json', l1: {},
      loader: async (key) => ({ version: versions.get(key) ?? 1n, value: `${key}@${versions.get(key) ?? 1n}` }),
    });
    const keys = Array.from({ length: 30 }, (_v, i) => `rp:${i}`);
    await waitUntil('every key served from L1', async () => {
      const results = await Promise.all(keys.map((k) => cache.read(k)));
      return results.every((r) => r.source === 'l1');
    }, 10_000);
    for (const k of keys) versions.set(k, 2n);
    await new RedisCacheWriter({ redis: cluster }).applyBatch(keys.map((key) => ({ kind: 'invalidate', key, version: 2n })));
    await waitUntil('every key read at version 2', async () => {
      const results = await Promise.all(keys.map((k) => cache.read(k)));
      return results.every((r) => r.version === 2n && r.value === `${r.value?.split('@')[0]}@2`);
    }, 5_000);
    expect(cache.l1Stats()?.entries).toBeGreaterThan(0);
    await cache.close();
  });
});
