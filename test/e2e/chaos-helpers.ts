/**
 * Pieces of the chaos test: CLI processes kept running as a supervisor would (restarted when they
 * exit on their own, killed with SIGKILL on purpose), writers that survive a database crash and
 * remember every version they may have committed, guarded readers that survive every fault and
 * check what they read, a watcher of the outbox topic, and the end-state check of every key.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Redis } from 'ioredis';
import type { Kafka, Consumer } from 'kafkajs';
import type { Pool, PoolConnection } from 'mysql2/promise';
import { createReadThrough } from '../../src/cache/read-through.js';
import { decodeStoredValue } from '../../src/cache/stored-value.js';
import type { CacheChange } from '../../src/codec/cache-change.js';
import type { WriterSchema } from '../../src/codec/types.js';
import { allProducts, loadProduct, productBytes, productKey, type ProductValue } from '../../src/demo/product-table.js';
import { updateWithVersion } from '../../src/outbox/version.js';
import { publishEvent } from '../../src/outbox/writer.js';
import { sleep } from '../../src/retry.js';
import { uniqueName } from '../helpers.js';

/** Every child process the chaos test started that is still running, stopped by PID in afterAll. */
export const children = new Set<ChildProcess>();

/** Kills every child still running (SIGKILL, by its PID) and waits for each to exit. */
export async function killAllChildren(): Promise<void> {
  await Promise.all([...children].map((child) => killed(child)));
}

function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  return exited;
}

/**
 * An `outbox-cache <command>` process under supervision: an exit nobody asked for is recorded and
 * the process started again after `restartDelayMs` (as systemd's Restart=always would).
 */
export class CliProcess {
  private child: ChildProcess | undefined;
  private wanted = false;
  private tail = '';
  /** Exits nobody asked for, with the end of the output before each. */
  readonly unplannedExits: string[] = [];
  starts = 0;

  constructor(
    readonly name: string,
    private readonly args: readonly string[],
    private readonly env: Readonly<Record<string, string>>,
    private readonly restartDelayMs = 300,
  ) {}

  start(): void {
    this.wanted = true;
    this.spawnChild();
  }

  /** Stops the process with `signal` (no restart) and waits for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    this.wanted = false;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  output(): string {
    return this.tail;
  }

  private spawnChild(): void {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...this.args], {
      env: { PATH: process.env.PATH ?? '', ...this.env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.starts += 1;
    children.add(child);
    const keep = (d: Buffer): void => void (this.tail = (this.tail + d.toString()).slice(-6_000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (this.child !== child || !this.wanted) return;
      this.unplannedExits.push(`${this.name} exited with ${signal ?? `code ${code}`}: ${this.tail.slice(-600)}`);
      const timer = setTimeout(() => {
        if (this.wanted && this.child === child) this.spawnChild();
      }, this.restartDelayMs);
      timer.unref();
    });
  }
}

/**
 * Versions per product: `possible` holds every value a transaction wrote at a version before it
 * tried to commit (a commit that fails on a lost connection may have happened or not), `confirmed`
 * every version whose COMMIT returned OK.
 */
export class ChaosLedger {
  readonly possible = new Map<string, Set<string>>();
  readonly confirmed: string[] = [];
  writeErrors = 0;
  ambiguous = 0;

  async seed(pool: Pool): Promise<void> {
    for (const [id, p] of await allProducts(pool)) this.maybe(id, p.version, p.value);
  }

  maybe(id: number, version: bigint, value: ProductValue): void {
    const key = `${id}:${version}`;
    const values = this.possible.get(key) ?? new Set<string>();
    values.add(productBytes(value).toString());
    this.possible.set(key, values);
  }

  isPossible(id: number, version: bigint, bytes: string): boolean {
    return this.possible.get(`${id}:${version}`)?.has(bytes) ?? false;
  }
}

/** One versioned update of a product with its cache-change event, as an application writes it. */
export async function writeProduct(
  pool: Pool, ledger: ChaosLedger, schema: WriterSchema, aggregateType: string, id: number, name: string, mode: 'upsert' | 'invalidate',
): Promise<void> {
  let conn: PoolConnection | undefined;
  let committing = false;
  try {
    conn = await pool.getConnection();
    await conn.beginTransaction();
    const value: ProductValue = { id, name, priceCents: name.length };
    const version = await updateWithVersion(conn,
      'UPDATE product SET name = ?, price_cents = ?, version = LAST_INSERT_ID(version + 1) WHERE id = ?', [name, value.priceCents, id]);
    const event: CacheChange = {
      entity: aggregateType, id: String(id), version, operation: mode === 'upsert' ? 'UPSERT' : 'INVALIDATE',
      value: mode === 'upsert' ? productBytes(value) : null, extraKeys: [], occurredAt: Date.now(),
    };
    await publishEvent(conn, { aggregateType, aggregateId: String(id), type: 'ProductChanged', version, value: event, schema });
    ledger.maybe(id, version, value);
    committing = true;
    await conn.commit();
    ledger.confirmed.push(`${id}:${version}`);
    conn.release();
  } catch (err) {
    ledger.writeErrors += 1;
    if (committing) ledger.ambiguous += 1;
    // A connection that failed may be dead: never hand it back to the pool.
    conn?.destroy();
    throw err;
  }
}

/** Concurrent writers until `stop` aborts; a failed write is counted and the writer goes on. */
export function runChaosWriters(options: {
  pool: Pool; ledger: ChaosLedger; schema: WriterSchema; aggregateType: string; ids: readonly number[]; writers: number; stop: AbortSignal;
}): Promise<void> {
  let n = 0;
  const one = async (w: number): Promise<void> => {
    while (!options.stop.aborted) {
      const id = options.ids[Math.floor(Math.random() * options.ids.length)] as number;
      try {
        await writeProduct(options.pool, options.ledger, options.schema, options.aggregateType, id, `w${w}-${n++}`, Math.random() < 0.5 ? 'upsert' : 'invalidate');
        // Pacing, not synchronisation: leaves CPU to the relay, the sink and the readers.
        await sleep(10, options.stop);
      } catch {
        // Back off while the database is down.
        await sleep(100, options.stop);
      }
    }
  };
  return Promise.all(Array.from({ length: options.writers }, (_, w) => one(w))).then(() => undefined);
}

/** Guarded readers until `stop` aborts: every value read must be one written at its version. */
export function runChaosReaders(options: {
  redis: Redis; pool: Pool; keyPrefix: string; aggregateType: string; ids: readonly number[]; readers: number; ledger: ChaosLedger; stop: AbortSignal;
}): { done: Promise<void>; reads: () => number; errors: () => number; bySource: () => Record<string, number>; mismatches: () => string[] } {
  const cache = createReadThrough<ProductValue>({
    redis: options.redis, codec: 'json', commandTimeoutMs: 1_000, leaseTtlMs: 3_000,
    loader: async (key) => loadProduct(options.pool, Number(key.slice(key.lastIndexOf(':') + 1))),
  });
  const checked: { id: number; version: bigint; got: string | undefined; source: string }[] = [];
  const bySource: Record<string, number> = {};
  let errors = 0;
  const one = async (): Promise<void> => {
    while (!options.stop.aborted) {
      const id = options.ids[Math.floor(Math.random() * options.ids.length)] as number;
      try {
        const result = await cache.read(productKey(options.keyPrefix, id, options.aggregateType));
        checked.push({ id, version: result.version, got: result.value === undefined ? undefined : productBytes(result.value).toString(), source: result.source });
        bySource[result.source] = (bySource[result.source] ?? 0) + 1;
        await sleep(5, options.stop);
      } catch {
        errors += 1;
        await sleep(50, options.stop);
      }
    }
  };
  return {
    done: Promise.all(Array.from({ length: options.readers }, one)).then(() => undefined),
    reads: () => checked.length,
    errors: () => errors,
    bySource: () => ({ ...bySource }),
    // Checked at the end: a value is recorded as possible before its COMMIT is sent.
    mismatches: () => checked
      .filter((c) => c.got === undefined || !options.ledger.isPossible(c.id, c.version, c.got))
      .map((c) => `${c.id} v${c.version} from ${c.source}: ${c.got}`),
  };
}

/** Reads the outbox topic from the beginning with a group of its own: which `id:version` reached Kafka. */
export async function watchTopic(kafka: Kafka, topic: string): Promise<{ seen: Set<string>; records: () => number; stop: () => Promise<void> }> {
  const seen = new Set<string>();
  let records = 0;
  const consumer: Consumer = kafka.consumer({ groupId: uniqueName('chaos-watch'), maxWaitTimeInMs: 100, sessionTimeout: 10_000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      records += 1;
      seen.add(`${message.key?.toString() ?? ''}:${message.headers?.version?.toString() ?? ''}`);
    },
  });
  return { seen, records: () => records, stop: () => consumer.disconnect() };
}

/**
 * Every product's key must be missing, a lease over a missing key, or hold exactly the database's
 * version: an entry with the database's bytes, a tombstone, or a lease over that tombstone. An
 * entry, tombstone or lease floor below the database's version means the event of a committed
 * version was lost (no later write overwrote the key). With `complete`, a missing key or lease
 * is a problem too (every key's last event must have been applied).
 */
export async function keyProblems(redis: Redis, pool: Pool, keyPrefix: string, aggregateType: string, complete = false): Promise<string[]> {
  const products = await allProducts(pool);
  const ids = [...products.keys()];
  const raw = await redis.mgetBuffer(...ids.map((id) => productKey(keyPrefix, id, aggregateType)));
  const problems: string[] = [];
  ids.forEach((id, i) => {
    const stored = decodeStoredValue(raw[i]);
    const db = products.get(id);
    if (!db) return;
    const describe = `${id}: cache ${stored ? `${stored.state} v${stored.version}` : 'missing'}, database v${db.version}`;
    if (!stored || (stored.state === 'lease' && stored.version === 0n)) {
      if (complete) problems.push(describe);
      return;
    }
    if (stored.version !== db.version || stored.state === 'absent') problems.push(describe);
    else if (stored.state === 'entry' && !stored.data.equals(productBytes(db.value))) problems.push(`${describe}, other bytes`);
    else if (complete && stored.state === 'lease') problems.push(describe);
  });
  return problems;
}
