/**
 * Benchmark of the version guard's batch apply (RedisCacheWriter.applyBatch) against
 * redis-benchmark's pipelined EVALSHA of the single-key upsert script (`-P 64`), on the same
 * Redis, with the same value size, key space and version distribution (random keys and random
 * versions, so about half the applies are stale in both). Several alternating rounds; medians.
 * Last line: {"bench":"guard","batch_keys_per_s":…,"redis_benchmark_evalsha_per_s":…,"ratio":…}
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import type { CacheAction } from '../src/cache/actions.js';
import { guardScriptSource } from '../src/cache/guard-scripts.js';
import { RedisCacheWriter } from '../src/cache/redis-cache-writer.js';
import { startRedis } from '../src/local-servers/index.js';

const run = promisify(execFile);
const VALUE_SIZE = 256;
const KEYSPACE = 100_000;
const ROUNDS = 3;
const REQUESTS = 300_000;
const BATCH_SIZE = 1_000;
const IN_FLIGHT = 4;

const value = Buffer.alloc(VALUE_SIZE, 'x');
const rand12 = () => String(Math.floor(Math.random() * KEYSPACE)).padStart(12, '0');

/** Actions shaped like redis-benchmark's: key `g:<12 digits>`, version `1<12 digits>`. */
function makeActions(count: number): CacheAction[] {
  return Array.from({ length: count }, () => ({
    kind: 'upsert', key: `g:${rand12()}`, version: BigInt(`1${rand12()}`), value,
  }));
}

async function redisBenchmark(port: number, sha: string): Promise<number> {
  const { stdout } = await run('redis-benchmark', [
    '-p', String(port), '-P', '64', '-n', String(REQUESTS), '-r', String(KEYSPACE), '--csv',
    'EVALSHA', sha, '1', 'g:__rand_int__', '1__rand_int__', '3600000', value.toString('latin1'),
  ], { maxBuffer: 16 * 1024 * 1024 });
  const line = stdout.trim().split('\n').pop() ?? '';
  const rps = Number(line.split(',')[1]?.replaceAll('"', ''));
  if (!Number.isFinite(rps) || rps <= 0) throw new Error(`cannot parse redis-benchmark output: ${line.slice(0, 200)}`);
  return rps;
}

async function batchApply(writer: RedisCacheWriter): Promise<number> {
  const batches = Array.from({ length: REQUESTS / BATCH_SIZE }, () => makeActions(BATCH_SIZE));
  let next = 0;
  let stale = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (let batch = batches[next++]; batch; batch = batches[next++]) {
        const outcomes = await writer.applyBatch(batch);
        stale += outcomes.filter((o) => o === 'stale').length;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`  batch apply: ${REQUESTS} actions in ${seconds.toFixed(2)} s, ${((stale / REQUESTS) * 100).toFixed(0)}% stale`);
  return REQUESTS / seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function main(): Promise<void> {
  const server = await startRedis();
  const redis = new Redis(server.url);
  try {
    const sha = String(await redis.script('LOAD', guardScriptSource('upsertEntry')));
    const writer = new RedisCacheWriter({ redis, maxKeysPerCall: BATCH_SIZE });
    const batchRates: number[] = [];
    const benchmarkRates: number[] = [];
    console.log(`guard bench: value ${VALUE_SIZE} B, keyspace ${KEYSPACE}, ${REQUESTS} ops per round, ${ROUNDS} rounds`);
    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`round ${round}`);
      await redis.flushall();
      benchmarkRates.push(await redisBenchmark(server.port, sha));
      console.log(`  redis-benchmark EVALSHA -P 64: ${Math.round(benchmarkRates.at(-1) ?? 0)} ops/s`);
      await redis.flushall();
      batchRates.push(await batchApply(writer));
      console.log(`  batch apply: ${Math.round(batchRates.at(-1) ?? 0)} keys/s`);
    }
    const batch = median(batchRates);
    const evalsha = median(benchmarkRates);
    console.log(JSON.stringify({
      bench: 'guard',
      batch_keys_per_s: Math.round(batch),
      redis_benchmark_evalsha_per_s: Math.round(evalsha),
      ratio: Number((batch / evalsha).toFixed(2)),
    }));
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
