/**
 * Benchmark of the version guard's batch apply (RedisCacheWriter.applyBatch) against
 * redis-benchmark's pipelined EVALSHA of the single-key upsert script (`-P 64`), on the same
 * Redis, with the same value size, key space and version distribution (random keys and random
 * versions, so about 44% of the applies are stale in both). Alternating rounds, medians. Also
 * prints the Redis CPU time per key of each side (read from /proc), which depends less on other
 * load on the machine than the rates do.
 * Last line: {"bench":"guard","batch_keys_per_s":…,"redis_benchmark_evalsha_per_s":…,"ratio":…}
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Redis } from 'ioredis';
import type { CacheAction } from '../src/cache/actions.js';
import { guardScriptSource } from '../src/cache/guard-scripts.js';
import { RedisCacheWriter } from '../src/cache/redis-cache-writer.js';
import { startRedis } from '../src/local-servers/index.js';

const run = promisify(execFile);
const VALUE_SIZE = 256;
const KEYSPACE = 100_000;
const ROUNDS = 5;
const REQUESTS = 300_000;
/** Actions per applyBatch call (the sink's batch); the writer splits it into script calls. */
const BATCH_SIZE = 1_000;
const IN_FLIGHT = 8;

const value = Buffer.alloc(VALUE_SIZE, 'x');
const rand12 = () => String(Math.floor(Math.random() * KEYSPACE)).padStart(12, '0');

/** Actions shaped like redis-benchmark's: key `g:<12 digits>`, version `1<12 digits>`. */
function makeActions(count: number): CacheAction[] {
  return Array.from({ length: count }, () => ({
    kind: 'upsert', key: `g:${rand12()}`, version: BigInt(`1${rand12()}`), value,
  }));
}

/** CPU time (user + system) of process `pid` in ms, or NaN where /proc is not available. */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
  } catch {
    return Number.NaN;
  }
}

interface Measure {
  readonly rate: number;
  readonly redisCpuUsPerKey: number;
}

async function redisBenchmark(port: number, redisPid: number, sha: string): Promise<Measure> {
  const cpu = cpuMs(redisPid);
  const { stdout } = await run('redis-benchmark', [
    '-p', String(port), '-P', '64', '-n', String(REQUESTS), '-r', String(KEYSPACE), '--csv',
    'EVALSHA', sha, '1', 'g:__rand_int__', '1__rand_int__', '3600000', value.toString('latin1'),
  ], { maxBuffer: 16 * 1024 * 1024 });
  const redisCpuUsPerKey = ((cpuMs(redisPid) - cpu) * 1000) / REQUESTS;
  const line = stdout.trim().split('\n').pop() ?? '';
  const rate = Number(line.split(',')[1]?.replaceAll('"', ''));
  if (!Number.isFinite(rate) || rate <= 0) throw new Error(`cannot parse redis-benchmark output: ${line.slice(0, 200)}`);
  console.log(`  redis-benchmark EVALSHA -P 64: ${Math.round(rate)} ops/s, Redis CPU ${redisCpuUsPerKey.toFixed(2)} µs/op`);
  return { rate, redisCpuUsPerKey };
}

async function batchApply(writer: RedisCacheWriter, redisPid: number): Promise<Measure> {
  // Actions are built before the clock starts (the sink has them decoded already), and the heap
  // is collected so that building them is not charged to the apply.
  const batches = Array.from({ length: REQUESTS / BATCH_SIZE }, () => makeActions(BATCH_SIZE));
  collectGarbage();
  let next = 0;
  let stale = 0;
  const cpu = cpuMs(redisPid);
  const nodeCpu = process.cpuUsage();
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
  const redisCpuUsPerKey = ((cpuMs(redisPid) - cpu) * 1000) / REQUESTS;
  const node = process.cpuUsage(nodeCpu);
  const rate = REQUESTS / seconds;
  console.log(
    `  batch apply: ${Math.round(rate)} keys/s, Redis CPU ${redisCpuUsPerKey.toFixed(2)} µs/key, ` +
      `client CPU ${((node.user + node.system) / REQUESTS).toFixed(2)} µs/key, ${((stale / REQUESTS) * 100).toFixed(0)}% stale`,
  );
  return { rate, redisCpuUsPerKey };
}

/** A full garbage collection, without needing node's --expose-gc on the command line. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function main(): Promise<void> {
  const server = await startRedis();
  const redis = new Redis(server.url);
  try {
    const sha = String(await redis.script('LOAD', guardScriptSource('upsertEntry')));
    const writer = new RedisCacheWriter({ redis });
    const batch: Measure[] = [];
    const single: Measure[] = [];
    console.log(`guard bench: value ${VALUE_SIZE} B, keyspace ${KEYSPACE}, ${REQUESTS} ops per round, ${ROUNDS} rounds`);
    // Warm-up (JIT, script cache, allocator), not measured.
    await writer.applyBatch(makeActions(BATCH_SIZE * 10));
    const runSingle = async () => {
      await redis.flushall();
      single.push(await redisBenchmark(server.port, server.pid, sha));
    };
    const runBatch = async () => {
      await redis.flushall();
      batch.push(await batchApply(writer, server.pid));
    };
    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`round ${round}`);
      // The order alternates so that a slow spell on a shared machine hits both sides.
      for (const step of round % 2 === 1 ? [runSingle, runBatch] : [runBatch, runSingle]) await step();
    }
    const batchRate = median(batch.map((m) => m.rate));
    const singleRate = median(single.map((m) => m.rate));
    console.log(
      `median Redis CPU per key: batch ${median(batch.map((m) => m.redisCpuUsPerKey)).toFixed(2)} µs, ` +
        `redis-benchmark EVALSHA ${median(single.map((m) => m.redisCpuUsPerKey)).toFixed(2)} µs`,
    );
    console.log(JSON.stringify({
      bench: 'guard',
      batch_keys_per_s: Math.round(batchRate),
      redis_benchmark_evalsha_per_s: Math.round(singleRate),
      ratio: Number((batchRate / singleRate).toFixed(2)),
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
