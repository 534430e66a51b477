/**
 * Cost of the outbox on the write path: median latency of a transaction that updates one domain
 * row (taking its version under the row lock), with and without publishing an event, on a
 * MariaDB started here with durable commits (sync_binlog=1, innodb_flush_log_at_trx_commit=1).
 * The two modes are interleaved (alternating which goes first) so drift affects both equally.
 * Last output line: {"bench":"outbox-write","with_ms":…,"without_ms":…,"ratio":…}. Target: ratio ≤ 1.5.
 *
 * Env: BENCH_PAIRS (default 1500) and BENCH_MAX_SECONDS (default 75) bound the measured phase.
 */
import { performance } from 'node:perf_hooks';
import avro from 'avsc';
import { createConnection, createPool } from 'mysql2/promise';
import type { WriterSchema } from '../src/codec/types.js';
import { startMariaDb } from '../src/local-servers/index.js';
import { migrateOutbox } from '../src/outbox/migrate.js';
import { updateWithVersion } from '../src/outbox/version.js';
import { withOutboxTransaction } from '../src/outbox/writer.js';

const PAIRS = Number(process.env.BENCH_PAIRS ?? 1500);
const MAX_SECONDS = Number(process.env.BENCH_MAX_SECONDS ?? 75);
const WARMUP = 200;
const ROWS = 100;

const schema: WriterSchema = {
  subject: 'outbox.event.item-value',
  id: 1,
  name: 'bench.ItemChanged',
  type: avro.Type.forSchema({
    type: 'record',
    name: 'ItemChanged',
    namespace: 'bench',
    fields: [
      { name: 'id', type: 'long' },
      { name: 'n', type: 'long' },
      { name: 'version', type: 'long' },
    ],
  }),
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

async function main(): Promise<void> {
  const server = await startMariaDb({ durable: true });
  try {
    const admin = await createConnection({ uri: server.url });
    await admin.query('CREATE DATABASE bench');
    await admin.end();
    const pool = createPool({ uri: `${server.url}bench`, connectionLimit: 1, supportBigNumbers: true, timezone: 'Z' });
    try {
      const setup = await pool.getConnection();
      await migrateOutbox(setup);
      await setup.query('CREATE TABLE items (id INT PRIMARY KEY, n BIGINT NOT NULL, version BIGINT NOT NULL)');
      await setup.query('INSERT INTO items (id, n, version) VALUES ?', [Array.from({ length: ROWS }, (_, i) => [i + 1, 0, 0])]);
      setup.release();

      let counter = 0;
      const transaction = async (publishToo: boolean): Promise<number> => {
        const id = (counter++ % ROWS) + 1;
        const started = performance.now();
        await withOutboxTransaction(pool, async (conn, publish) => {
          const version = await updateWithVersion(conn, 'UPDATE items SET n = n + 1, version = LAST_INSERT_ID(version + 1) WHERE id = ?', [id]);
          if (publishToo) {
            await publish({
              aggregateType: 'item',
              aggregateId: String(id),
              type: 'ItemChanged',
              version,
              value: { id, n: counter, version: Number(version) },
              schema,
            });
          }
        });
        return performance.now() - started;
      };

      for (let i = 0; i < WARMUP; i++) {
        await transaction(true);
        await transaction(false);
      }
      const withMs: number[] = [];
      const withoutMs: number[] = [];
      const deadline = performance.now() + MAX_SECONDS * 1000;
      for (let i = 0; i < PAIRS && performance.now() < deadline; i++) {
        if (i % 2 === 0) {
          withMs.push(await transaction(true));
          withoutMs.push(await transaction(false));
        } else {
          withoutMs.push(await transaction(false));
          withMs.push(await transaction(true));
        }
      }
      const withMedian = median(withMs);
      const withoutMedian = median(withoutMs);
      console.log(`durable MariaDB (sync_binlog=1, innodb_flush_log_at_trx_commit=1), ${withMs.length} transactions per mode after ${WARMUP} warm-up pairs`);
      console.log(`with publish:    p50 ${withMedian.toFixed(3)} ms  p90 ${percentile(withMs, 0.9).toFixed(3)} ms  p99 ${percentile(withMs, 0.99).toFixed(3)} ms`);
      console.log(`without publish: p50 ${withoutMedian.toFixed(3)} ms  p90 ${percentile(withoutMs, 0.9).toFixed(3)} ms  p99 ${percentile(withoutMs, 0.99).toFixed(3)} ms`);
      console.log(JSON.stringify({ bench: 'outbox-write', with_ms: round3(withMedian), without_ms: round3(withoutMedian), ratio: round3(withMedian / withoutMedian) }));
    } finally {
      await pool.end();
    }
  } finally {
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
