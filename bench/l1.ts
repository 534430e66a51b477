/**
 * Benchmark of the in-process L1 tier (DESIGN.md §4a): the latency of a hit served from L1
 * through the read path, against a plain `Map` lookup behind the same calling convention (an
 * async function returning `map.get(key)`, awaited: the cheapest in-process cache with the read
 * path's shape), and against a hit served from Redis by the same read path without L1. Same
 * process, same 1 KB JSON value, rounds alternating between the three, medians of the rounds.
 * Also prints the synchronous store lookup against a synchronous `Map.get`.
 * Last line: {"bench":"l1","l1_hit_ns":…,"map_ns":…,"redis_hit_ns":…,"vs_map":…}
 * Targets: vs_map ≤ 3, redis_hit_ns ≥ 50 × l1_hit_ns.
 */
import { Redis } from 'ioredis';
import { L1Store } from '../src/cache/l1/l1-store.js';
import { createReadThrough } from '../src/cache/read-through.js';
import { startRedis } from '../src/local-servers/index.js';

const ROUNDS = 7;
const MEMORY_OPS = 2_000_000;
const REDIS_OPS = 5_000;
const KEY = 'bench:l1:item';
const value = { id: 1, name: 'x'.repeat(1_000), tags: ['a', 'b'] };

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** ns per op of `ops` sequential awaited calls of `fn`. */
async function timeAsync(ops: number, fn: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) await fn();
  return Number(process.hrtime.bigint() - started) / ops;
}

function timeSync(ops: number, fn: () => unknown): number {
  let sink = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) if (fn() !== undefined) sink++;
  const ns = Number(process.hrtime.bigint() - started) / ops;
  if (sink !== ops) throw new Error('a lookup missed');
  return ns;
}

const server = await startRedis();
const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
try {
  const loader = async (): Promise<{ version: bigint; value: typeof value }> => ({ version: 1n, value });
  const withL1 = createReadThrough<typeof value>({ redis, codec: 'json', loader, l1: { ttlMs: 3_600_000 } });
  const redisOnly = createReadThrough<typeof value>({ redis, codec: 'json', loader });
  for (let i = 0; i < 100 && (await withL1.read(KEY)).source !== 'l1'; i++) await new Promise((r) => setTimeout(r, 10));
  if ((await withL1.read(KEY)).source !== 'l1') throw new Error('the L1 never filled');
  if ((await redisOnly.read(KEY)).source !== 'cache') throw new Error('the Redis entry is missing');

  const map = new Map([[KEY, value]]);
  const mapGet = async (key: string): Promise<typeof value | undefined> => map.get(key);
  const store = new L1Store<typeof value>({ ttlMs: 3_600_000 });
  store.completeFill(store.beginFill(KEY), 1n, value, 1_000);

  const l1: number[] = [];
  const plain: number[] = [];
  const remote: number[] = [];
  const storeSync: number[] = [];
  const mapSync: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    l1.push(await timeAsync(MEMORY_OPS, () => withL1.read(KEY)));
    plain.push(await timeAsync(MEMORY_OPS, () => mapGet(KEY)));
    remote.push(await timeAsync(REDIS_OPS, () => redisOnly.read(KEY)));
    storeSync.push(timeSync(MEMORY_OPS, () => store.get(KEY)));
    mapSync.push(timeSync(MEMORY_OPS, () => map.get(KEY)));
    console.log(`  round ${round + 1}: L1 hit ${l1.at(-1)?.toFixed(1)} ns, async Map ${plain.at(-1)?.toFixed(1)} ns, Redis hit ${remote.at(-1)?.toFixed(0)} ns; sync: store ${storeSync.at(-1)?.toFixed(1)} ns, Map ${mapSync.at(-1)?.toFixed(1)} ns`);
  }
  const stats = withL1.l1Stats();
  if (!stats || stats.hits < ROUNDS * MEMORY_OPS) throw new Error('not every L1 read was an L1 hit');
  const l1Ns = median(l1);
  const mapNs = median(plain);
  const redisNs = median(remote);
  console.log(`median: L1 hit ${l1Ns.toFixed(1)} ns (sync store ${median(storeSync).toFixed(1)} ns), Map ${mapNs.toFixed(1)} ns (sync ${median(mapSync).toFixed(1)} ns), Redis hit ${redisNs.toFixed(0)} ns, Redis/L1 ${(redisNs / l1Ns).toFixed(0)}×`);
  await withL1.close();
  console.log(JSON.stringify({
    bench: 'l1', l1_hit_ns: round1(l1Ns), map_ns: round1(mapNs), redis_hit_ns: Math.round(redisNs), vs_map: round2(l1Ns / mapNs),
    redis_vs_l1: Math.round(redisNs / l1Ns), l1_store_sync_ns: round1(median(storeSync)), map_sync_ns: round1(median(mapSync)),
  }));
} finally {
  redis.disconnect();
  await server.stop();
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
