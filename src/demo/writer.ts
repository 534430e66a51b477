/**
 * The demo writer of the docker compose stack (`outbox-cache demo writer`): a steady trickle of
 * updates through the outbox writer, alternating two aggregate types so both shipped subjects are
 * exercised: `user` (com.example.users.UserChanged: the default mapping invalidates `user:<id>`)
 * and `product` (io.outboxcache.CacheChange UPSERT: the sink writes the value through to
 * `product:<id>`). Each value is encoded with the latest schema registered under its subject.
 */
import type { Type } from 'avsc';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { WriterSchema } from '../codec/types.js';
import { OutboxCacheError, errorMessage, isRetriable } from '../errors.js';
import { outboxSubject } from '../outbox/event.js';
import { updateWithVersion } from '../outbox/version.js';
import { withOutboxTransaction } from '../outbox/writer.js';
import { retry, sleep } from '../retry.js';
import { ensureProducts, PRODUCT_AGGREGATE, updateProduct } from './product-table.js';

/** Aggregate type of the user events. */
export const USER_AGGREGATE = 'user';

/** Options of {@link runDemoWriter}. */
export interface DemoWriterOptions {
  readonly pool: Pool;
  /** Resolves writer schemas (an AvroCodec over the Schema Registry). */
  readonly codec: { writerSchema(subject: string): Promise<WriterSchema> };
  /** Writes per second (user and product alternate). */
  readonly ratePerSecond: number;
  /** Ids 1..keys of each aggregate type. */
  readonly keys: number;
  /** Stops the writer after the write in progress. */
  readonly signal: AbortSignal;
  /** Stop after this many ms. Default: only on `signal`. */
  readonly durationMs?: number;
  /** Told about failed writes that will be retried (the writer waits and goes on). */
  readonly onRetry?: (err: unknown) => void;
}

/** What the writer committed. */
export interface DemoWriterResult {
  readonly users: number;
  readonly products: number;
}

/** Creates the `app_user` table if missing and inserts users 1..count at version 1 (no event). */
export async function ensureUsers(pool: Pool, count: number): Promise<void> {
  await pool.query(`CREATE TABLE IF NOT EXISTS app_user (
    id BIGINT NOT NULL PRIMARY KEY,
    name VARCHAR(128) NOT NULL,
    email VARCHAR(255) NULL,
    version BIGINT NOT NULL
  ) ENGINE = InnoDB`);
  const rows = Array.from({ length: count }, (_, i) => [i + 1, `user ${i + 1}`, null, 1]);
  if (rows.length > 0) await pool.query('INSERT IGNORE INTO app_user (id, name, email, version) VALUES ?', [rows]);
}

/** The writer schema's field names (a record schema). */
function fieldNames(type: Type): Set<string> {
  const fields = (type as unknown as { fields?: { name: string }[] }).fields ?? [];
  return new Set(fields.map((f) => f.name));
}

/** Updates user `id` and publishes a UserChanged event with exactly the fields `schema` declares. */
export async function updateUser(pool: Pool, id: number, name: string, schema: WriterSchema): Promise<bigint> {
  const email = `user${id}@example.com`;
  const known = fieldNames(schema.type);
  return withOutboxTransaction(pool, async (conn, publish) => {
    const version = await updateWithVersion(conn, 'UPDATE app_user SET name = ?, email = ?, version = LAST_INSERT_ID(version + 1) WHERE id = ?', [name, email, id]);
    // Only what the registered version declares: v1 has no locale, v2 adds it.
    const candidate: Record<string, unknown> = { id, name, email, version, locale: 'en' };
    const value = Object.fromEntries(Object.entries(candidate).filter(([field]) => known.has(field)));
    await publish({ aggregateType: USER_AGGREGATE, aggregateId: String(id), type: 'UserChanged', version, value, schema });
    return version;
  });
}

/**
 * Creates the tables if missing, then writes at `ratePerSecond` until `signal` aborts or
 * `durationMs` passes. Retriable failures (database or registry unreachable, deadlocks) are
 * retried with backoff; any other failure rejects.
 */
export async function runDemoWriter(options: DemoWriterOptions): Promise<DemoWriterResult> {
  const stop = AbortSignal.any([options.signal, ...(options.durationMs === undefined ? [] : [AbortSignal.timeout(options.durationMs)])]);
  // Resolves undefined when stopped while retrying: stopping is not a failure.
  const attempt = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await retry(fn, { signal: stop, initialDelayMs: 200, maxDelayMs: 5000, onRetry: (err) => options.onRetry?.(err) });
    } catch (err) {
      if (stop.aborted && isRetriable(err)) return undefined;
      throw err;
    }
  };
  let users = 0;
  let products = 0;
  const ready = await attempt(async () => {
    try {
      await ensureUsers(options.pool, options.keys);
      await ensureProducts(options.pool, options.keys);
      return true;
    } catch (err) {
      throw asRetriable(err);
    }
  });
  const userSchema = ready && (await attempt(() => options.codec.writerSchema(outboxSubject(USER_AGGREGATE))));
  const productSchema = userSchema && (await attempt(() => options.codec.writerSchema(outboxSubject(PRODUCT_AGGREGATE))));
  if (!userSchema || !productSchema) return { users, products };
  const intervalMs = 1000 / options.ratePerSecond;
  const started = performance.now();
  for (let n = 0; !stop.aborted; n++) {
    const id = 1 + Math.floor(Math.random() * options.keys);
    const name = `${n % 2 === 0 ? 'user' : 'product'} ${id} rev ${n}`;
    if (n % 2 === 0) {
      if (await attempt(() => updateUser(options.pool, id, name, userSchema))) users += 1;
    } else {
      const change = { name, priceCents: 100 + ((id * 37 + n) % 9900) };
      if (await attempt(() => updateProduct(options.pool, id, change, productSchema, { mode: 'upsert' }))) products += 1;
    }
    // Open-loop pacing: the next write is due at a fixed time, whatever this one took.
    await sleep(Math.max(0, started + (n + 1) * intervalMs - performance.now()), stop);
  }
  return { users, products };
}

/** Setup statements fail retriably only when the server is unreachable. */
function asRetriable(err: unknown): unknown {
  const e = err as { fatal?: unknown; code?: unknown } | null;
  if (e && (e.fatal === true || e.code === 'ECONNREFUSED' || e.code === 'PROTOCOL_CONNECTION_LOST') && !isRetriable(err)) {
    return new OutboxCacheError(`database unreachable: ${errorMessage(err)}`, { code: 'DEMO_DATABASE_UNREACHABLE', retriable: true, cause: err });
  }
  return err;
}

/** The highest version of each user and product, for checks. */
export async function demoVersions(pool: Pool): Promise<{ users: Map<number, bigint>; products: Map<number, bigint> }> {
  const read = async (table: string): Promise<Map<number, bigint>> => {
    const [rows] = await pool.query<({ id: number | string; version: number | string } & RowDataPacket)[]>(`SELECT id, version FROM ${table}`);
    return new Map(rows.map((r) => [Number(r.id), BigInt(r.version)]));
  };
  return { users: await read('app_user'), products: await read('product') };
}
