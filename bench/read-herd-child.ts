/**
 * A reader process of bench/read.ts's herd round: waits for `go` on stdin, then fires READS
 * concurrent misses of KEY, guarded (createReadThrough, MODE=guarded) or plain cache-aside
 * (GET, SELECT, SET; MODE=plain), and prints one JSON line: `{"loads":…,"ok":…}`, where loads
 * counts its database loads. Environment: REDIS_URL, MYSQL_URL, KEY, ROW_ID, READS, MODE.
 */
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { createPool, type RowDataPacket } from 'mysql2/promise';
import { createReadThrough } from '../src/cache/read-through.js';

const env = process.env;
const redis = new Redis(env.REDIS_URL ?? '', { maxRetriesPerRequest: 1 });
const pool = createPool({ uri: env.MYSQL_URL ?? '', connectionLimit: 8, supportBigNumbers: true });
const key = env.KEY ?? '';
let loads = 0;

/** The row, with a 200 ms server-side pause standing for a slow query (so the misses overlap it). */
async function selectRow(): Promise<{ version: bigint; value: unknown }> {
  loads++;
  const [rows] = await pool.query<RowDataPacket[]>('SELECT body, CAST(version AS CHAR) AS v, SLEEP(0.2) AS s FROM items WHERE id = ?', [Number(env.ROW_ID)]);
  const row = rows[0] as RowDataPacket;
  return { version: BigInt(String(row.v)), value: { body: String(row.body) } };
}

const cache = createReadThrough<unknown>({ redis, codec: 'json', loader: selectRow });

async function plainRead(): Promise<unknown> {
  const cached = await redis.get(key);
  if (cached !== null) return JSON.parse(cached) as unknown;
  const row = await selectRow();
  await redis.set(key, JSON.stringify(row.value), 'PX', 3_600_000);
  return row.value;
}

await redis.ping();
await pool.query('SELECT 1');
process.stdout.write('ready\n');
const stdin = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => stdin.once('line', () => resolve()));
stdin.close();
const read = env.MODE === 'plain' ? plainRead : () => cache.get(key);
const values = await Promise.all(Array.from({ length: Number(env.READS) }, read));
process.stdout.write(`${JSON.stringify({ loads, ok: values.every((v) => v !== undefined) })}\n`);
redis.disconnect();
await pool.end();
// stdin is a pipe from the benchmark: without this the process would wait for its end.
process.exit(0);
