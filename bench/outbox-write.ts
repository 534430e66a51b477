/**
 * Cost of the outbox on the write path: median latency of a transaction that updates one domain
 * row (taking its version under the row lock), with and without publishing an event, on a
 * MariaDB started here with durable commits (sync_binlog=1, innodb_flush_log_at_trx_commit=1).
 * The modes are interleaved (rotating which goes first) so drift affects all equally.
 * Last output line: {"bench":"outbox-write","with_ms":…,"without_ms":…,"ratio":…}. Target: ratio ≤ 1.5.
 *
 * Env: BENCH_ROUNDS (default 1500) and BENCH_MAX_SECONDS (default 75) bound the measured phase.
 */
import { performance } from 'node:perf_hooks';
import avro from 'avsc';
import { createConnection, createPool } from 'mysql2/promise';
import type { WriterSchema } from '../src/codec/types.js';
import { startMariaDb } from '../src/local-servers/index.js';
import { migrateOutbox } from '../src/outbox/migrate.js';
import { updateWithVersion } from '../src/outbox/version.js';
import type { NewOutboxEvent } from '../src/outbox/validate.js';
import { publishEvent, withOutboxTransaction } from '../src/outbox/writer.js';

type Mode = 'with' | 'without' | 'caller';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1500);
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
      const event = (id: number, version: bigint): NewOutboxEvent => ({
        aggregateType: 'item',
        aggregateId: String(id),
        type: 'ItemChanged',
        version,
        value: { id, n: counter, version: Number(version) },
        schema,
      });
      const versionedUpdate = 'UPDATE items SET n = n + 1, version = LAST_INSERT_ID(version + 1) WHERE id = ?';
      // 'with' and 'without' are the measured pair; 'caller' is publishEvent inside a transaction
      // the caller opened itself (one more round trip: its transaction check), printed for information.
      const transaction = async (mode: Mode): Promise<number> => {
        const id = (counter++ % ROWS) + 1;
        const started = performance.now();
        if (mode === 'caller') {
          const conn = await pool.getConnection();
          try {
            await conn.beginTransaction();
            await publishEvent(conn, event(id, await updateWithVersion(conn, versionedUpdate, [id])));
            await conn.commit();
          } finally {
            conn.release();
          }
        } else {
          await withOutboxTransaction(pool, async (conn, publish) => {
            const version = await updateWithVersion(conn, versionedUpdate, [id]);
            if (mode === 'with') await publish(event(id, version));
          });
        }
        return performance.now() - started;
      };

      const modes: Mode[] = ['with', 'without', 'caller'];
      const samples: Record<Mode, number[]> = { with: [], without: [], caller: [] };
      for (let i = 0; i < WARMUP; i++) for (const mode of modes) await transaction(mode);
      const deadline = performance.now() + MAX_SECONDS * 1000;
      for (let i = 0; i < ROUNDS && performance.now() < deadline; i++) {
        // Rotate which mode goes first so drift and caching favour none of them.
        for (let k = 0; k < modes.length; k++) {
          const mode = modes[(i + k) % modes.length] as Mode;
          samples[mode].push(await transaction(mode));
        }
      }
      const line = (label: string, xs: number[]): string =>
        `${label} p50 ${median(xs).toFixed(3)} ms  p90 ${percentile(xs, 0.9).toFixed(3)} ms  p99 ${percentile(xs, 0.99).toFixed(3)} ms`;
      const withMedian = median(samples.with);
      const withoutMedian = median(samples.without);
      console.log(`durable MariaDB (sync_binlog=1, innodb_flush_log_at_trx_commit=1), ${samples.with.length} transactions per mode after ${WARMUP} warm-up rounds`);
      console.log(line('without publish:                        ', samples.without));
      console.log(line('with publish (withOutboxTransaction):   ', samples.with));
      console.log(line('with publishEvent, caller BEGIN/COMMIT: ', samples.caller));
      console.log(`caller-managed ratio (information): ${(median(samples.caller) / withoutMedian).toFixed(3)}`);
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
