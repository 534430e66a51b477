/**
 * Benchmark of `backfill` (through the guard: leases on a batch's keys, the rows read after them,
 * filled under them) against a plain script that SELECTs the same batches in primary-key order
 * and writes them with pipelined SETs (no guard), over the same 200,000 rows on the same MariaDB
 * and Redis. Both write the same values (JSON of the same columns) into an empty key space.
 * Alternating rounds, medians.
 * Last line: {"bench":"backfill","rows_per_s":…,"plain_rows_per_s":…,"ratio":…}
 */
import { Redis } from 'ioredis';
import { createConnection, createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { startMariaDb, startRedis } from '../src/local-servers/index.js';
import { backfillNamespace } from '../src/operations/backfill.js';
import { jsonSerializer, type BackfillSpec } from '../src/operations/backfill-spec.js';

const ROWS = 200_000;
const BATCH = 500;
const ROUNDS = 3;
const TTL_MS = 3_600_000;
const COLUMNS = ['id', 'name', 'price', 'version'];
const spec: BackfillSpec = { namespace: 'item', table: 'items', pk: 'id', key: 'item:{id}', version: { column: 'version' }, columns: COLUMNS, mode: 'fill' };

async function plain(pool: Pool, redis: Redis, prefix: string): Promise<number> {
  const serialize = jsonSerializer(COLUMNS);
  let after = 0;
  let rows = 0;
  for (;;) {
    const [batch] = await pool.query<RowDataPacket[]>('SELECT `id`, `name`, `price`, `version` FROM `items` WHERE `id` > ? ORDER BY `id` LIMIT ?', [after, BATCH]);
    if (batch.length === 0) break;
    const pipeline = redis.pipeline();
    for (const row of batch) pipeline.set(`${prefix}item:${row.id}`, `E${row.version}:${serialize(row) as string}`, 'PX', TTL_MS);
    await pipeline.exec();
    rows += batch.length;
    after = batch[batch.length - 1]?.id as number;
  }
  return rows;
}

async function timed(what: string, run: () => Promise<number>): Promise<number> {
  const started = performance.now();
  const rows = await run();
  const rate = rows / ((performance.now() - started) / 1000);
  if (rows !== ROWS) throw new Error(`${what} wrote ${rows} rows, expected ${ROWS}`);
  console.log(`  ${what}: ${Math.round(rate)} rows/s`);
  return rate;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const [mariadb, redisServer] = await Promise.all([startMariaDb(), startRedis()]);
  try {
    const admin = await createConnection({ uri: mariadb.url });
    await admin.query('CREATE DATABASE bench');
    await admin.end();
    const pool = createPool({ uri: `${mariadb.url}bench`, connectionLimit: 3, supportBigNumbers: true, timezone: 'Z' });
    const redis = new Redis(redisServer.url);
    try {
      await pool.query('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, price DECIMAL(10,2) NOT NULL, version BIGINT NOT NULL)');
      for (let i = 0; i < ROWS; i += 10_000) {
        const rows = Array.from({ length: 10_000 }, (_v, j) => [i + j + 1, `item number ${i + j + 1}`, ((i + j) % 1000) / 10, 1 + ((i + j) % 50)]);
        await pool.query('INSERT INTO items VALUES ?', [rows]);
      }
      console.log(`${ROWS} rows, batches of ${BATCH}, ${ROUNDS} alternating rounds`);
      const guarded: number[] = [];
      const baseline: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const sides = [
          async () => guarded.push(await timed('backfill', async () =>
            (await backfillNamespace({ redis, mysql: pool, spec, keyPrefix: `b${round}:`, batchSize: BATCH, resume: false })).counts.written)),
          async () => baseline.push(await timed('plain SELECT + pipelined SET', () => plain(pool, redis, `p${round}:`))),
        ];
        for (const side of round % 2 === 0 ? sides : sides.reverse()) await side();
        await redis.flushall();
      }
      const rowsPerS = median(guarded);
      const plainPerS = median(baseline);
      console.log(JSON.stringify({ bench: 'backfill', rows_per_s: Math.round(rowsPerS), plain_rows_per_s: Math.round(plainPerS), ratio: Number((rowsPerS / plainPerS).toFixed(2)) }));
    } finally {
      redis.disconnect();
      await pool.end();
    }
  } finally {
    await Promise.allSettled([mariadb.stop(), redisServer.stop()]);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
