/**
 * Benchmark of the guarded read path (guard v2: leases on every key) against plain cache-aside,
 * in one run against the same Redis and MariaDB (both started here), 1 KB rows:
 *   (a) hit: createReadThrough's read vs ioredis GET + JSON.parse;
 *   (b) miss: GET, lease, SELECT, guarded fill vs GET, SELECT, SET;
 *   (c) herd: database loads for 200 concurrent misses of one key over 4 processes (and the same
 *       with plain cache-aside, for comparison).
 * Latency is measured one read at a time (p50/p99), the two sides interleaved read by read so
 * that both meet the same load on a shared machine; throughput with 32 reads in flight, the sides
 * alternating; medians over rounds.
 * Last line: {"bench":"read","hit_ratio":…,"miss_ratio":…,"herd_loads":…} (ratios = guarded / plain
 * p50 latency).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { createConnection, createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { createReadThrough, type ReadThrough } from '../src/cache/read-through.js';
import { startMariaDb, startRedis } from '../src/local-servers/index.js';

const ROWS = 2_000;
const ROUNDS = 5;
const LATENCY_OPS = 1_000;
const THROUGHPUT_OPS = 4_000;
const IN_FLIGHT = 32;
const BODY = 'x'.repeat(1_000);

interface Stats {
  readonly p50: number;
  readonly p99: number;
  readonly perS: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? Number.NaN;
};
const percentile = (xs: number[], p: number): number => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? Number.NaN;

type Read = (i: number) => Promise<unknown>;

/**
 * Latency of LATENCY_OPS reads one at a time (µs) of both sides, interleaved read by read (the
 * side going first alternating), so both see the same load on a shared machine; then the
 * throughput of THROUGHPUT_OPS reads with IN_FLIGHT in flight, one side after the other.
 */
async function measurePair(guarded: Read, plain: Read, guardedFirst: boolean): Promise<{ guarded: Stats; plain: Stats }> {
  const latencies = { guarded: [] as number[], plain: [] as number[] };
  const timed = async (read: Read, i: number, into: number[]): Promise<void> => {
    const t = performance.now();
    await read(i);
    into.push((performance.now() - t) * 1000);
  };
  for (let i = 0; i < LATENCY_OPS; i++) {
    if ((i % 2 === 0) === guardedFirst) {
      await timed(guarded, i, latencies.guarded);
      await timed(plain, i, latencies.plain);
    } else {
      await timed(plain, i, latencies.plain);
      await timed(guarded, i, latencies.guarded);
    }
  }
  const throughput = async (read: Read): Promise<number> => {
    let next = LATENCY_OPS;
    const started = performance.now();
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < LATENCY_OPS + THROUGHPUT_OPS) await read(next++);
    }));
    return THROUGHPUT_OPS / ((performance.now() - started) / 1000);
  };
  const [first, second] = guardedFirst ? [guarded, plain] : [plain, guarded];
  const firstRate = await throughput(first);
  const secondRate = await throughput(second);
  const stats = (xs: number[], perS: number): Stats => ({ p50: percentile(xs, 0.5), p99: percentile(xs, 0.99), perS });
  return {
    guarded: stats(latencies.guarded, guardedFirst ? firstRate : secondRate),
    plain: stats(latencies.plain, guardedFirst ? secondRate : firstRate),
  };
}

function summary(name: string, runs: readonly Stats[]): Stats {
  const s = { p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)), perS: median(runs.map((r) => r.perS)) };
  console.log(`  ${name.padEnd(28)} p50 ${s.p50.toFixed(0).padStart(5)} µs  p99 ${s.p99.toFixed(0).padStart(5)} µs  ${Math.round(s.perS)} reads/s`);
  return s;
}

async function herd(redisUrl: string, mysqlUrl: string, mode: 'guarded' | 'plain', key: string): Promise<number> {
  const children = Array.from({ length: 4 }, () => spawn(process.execPath, ['--import', 'tsx', 'bench/read-herd-child.ts'], {
    env: { ...process.env, REDIS_URL: redisUrl, MYSQL_URL: mysqlUrl, KEY: key, ROW_ID: '1', READS: '50', MODE: mode },
    stdio: ['pipe', 'pipe', 'inherit'],
  }));
  const lines = children.map((child) => {
    const rl = createInterface({ input: child.stdout });
    const queue: string[] = [];
    const waiters: ((line: string) => void)[] = [];
    rl.on('line', (line) => (waiters.shift() ?? ((l: string) => queue.push(l)))(line));
    return () => new Promise<string>((resolve) => (queue.length > 0 ? resolve(queue.shift() as string) : waiters.push(resolve)));
  });
  await Promise.all(lines.map((next) => next()));
  for (const child of children) child.stdin.write('go\n');
  const results = await Promise.all(lines.map(async (next) => JSON.parse(await next()) as { loads: number; ok: boolean }));
  await Promise.all(children.map((child) => (child.exitCode !== null ? undefined : new Promise((resolve) => child.once('exit', resolve)))));
  if (!results.every((r) => r.ok)) throw new Error('a herd read returned nothing');
  return results.reduce((sum, r) => sum + r.loads, 0);
}

async function main(): Promise<void> {
  const [redisServer, mysqlServer] = await Promise.all([startRedis(), startMariaDb()]);
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  let pool: Pool | undefined;
  try {
    const admin = await createConnection({ uri: mysqlServer.url });
    await admin.query('CREATE DATABASE bench');
    await admin.end();
    const mysqlUrl = `${mysqlServer.url}bench`;
    pool = createPool({ uri: mysqlUrl, connectionLimit: IN_FLIGHT, supportBigNumbers: true });
    await pool.query('CREATE TABLE items (id INT PRIMARY KEY, body VARCHAR(1024) NOT NULL, version BIGINT NOT NULL)');
    for (let i = 0; i < ROWS; i += 500) {
      const rows = Array.from({ length: 500 }, (_v, j) => [i + j, BODY, 1]);
      await pool.query('INSERT INTO items (id, body, version) VALUES ?', [rows]);
    }
    const db = pool;
    const select = async (id: number): Promise<{ version: bigint; value: unknown }> => {
      const [rows] = await db.query<RowDataPacket[]>('SELECT body, CAST(version AS CHAR) AS v FROM items WHERE id = ?', [id]);
      const row = rows[0] as RowDataPacket;
      return { version: BigInt(String(row.v)), value: { id, body: String(row.body) } };
    };
    const idOf = (key: string): number => Number(key.slice(key.lastIndexOf(':') + 1));
    const guarded: ReadThrough<unknown> = createReadThrough<unknown>({ redis, codec: 'json', loader: (key) => select(idOf(key)) });
    const keyOf = (side: string, i: number): string => `${side}:${i % ROWS}`;
    const missKey = (side: string, round: number, i: number): string => `${side}:m${round}:${i}:${i % ROWS}`;

    // Warm both hit sets (the same rows, one key set per side).
    for (let i = 0; i < ROWS; i++) {
      await guarded.read(keyOf('g', i));
      await redis.set(keyOf('p', i), JSON.stringify((await select(i)).value), 'PX', 3_600_000);
    }
    const hits = { guarded: [] as Stats[], plain: [] as Stats[] };
    const misses = { guarded: [] as Stats[], plain: [] as Stats[] };
    const plainMiss = async (key: string): Promise<unknown> => {
      const cached = await redis.get(key);
      if (cached !== null) return JSON.parse(cached) as unknown;
      const row = await select(idOf(key));
      await redis.set(key, JSON.stringify(row.value), 'PX', 3_600_000);
      return row.value;
    };
    for (let round = 0; round < ROUNDS; round++) {
      const guardedFirst = round % 2 === 0;
      const hit = await measurePair(
        (i) => guarded.read(keyOf('g', i)),
        async (i) => JSON.parse((await redis.get(keyOf('p', i))) as string) as unknown,
        guardedFirst,
      );
      // Miss keys are new in every round (and per side), so every read misses.
      const miss = await measurePair((i) => guarded.read(missKey('gm', round, i)), (i) => plainMiss(missKey('pm', round, i)), guardedFirst);
      hits.guarded.push(hit.guarded);
      hits.plain.push(hit.plain);
      misses.guarded.push(miss.guarded);
      misses.plain.push(miss.plain);
    }
    console.log('read path, guarded (leases, guard v2) vs plain cache-aside, 1 KB rows:');
    const hitG = summary('hit, guarded', hits.guarded);
    const hitP = summary('hit, plain GET + JSON.parse', hits.plain);
    const missG = summary('miss, guarded', misses.guarded);
    const missP = summary('miss, plain GET/SELECT/SET', misses.plain);
    const herdLoads = await herd(redisServer.url, mysqlUrl, 'guarded', 'herd:g:1');
    const plainHerdLoads = await herd(redisServer.url, mysqlUrl, 'plain', 'herd:p:1');
    console.log(`  herd, 200 misses of one key over 4 processes: ${herdLoads} database load(s) guarded, ${plainHerdLoads} plain`);
    console.log(JSON.stringify({
      bench: 'read',
      hit_ratio: Number((hitG.p50 / hitP.p50).toFixed(3)),
      miss_ratio: Number((missG.p50 / missP.p50).toFixed(3)),
      herd_loads: herdLoads,
    }));
  } finally {
    redis.disconnect();
    await pool?.end();
    await Promise.all([redisServer.stop(), mysqlServer.stop()]);
  }
}

await main();
