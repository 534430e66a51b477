/**
 * The demo's domain table, `product` (id, name, price_cents, version), and its one write: update
 * a row, taking the next version under the row lock, and publish a cache-change event through the
 * outbox writer in the same transaction. Used by the demo, the demo writer, the end-to-end tests
 * and the end-to-end benchmark.
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { CacheChange } from '../codec/cache-change.js';
import type { WriterSchema } from '../codec/types.js';
import { updateWithVersion } from '../outbox/version.js';
import { withOutboxTransaction, type OutboxWriterOptions } from '../outbox/writer.js';

/** Aggregate type of product events: topic `outbox.event.product`, cache keys `product:<id>`. */
export const PRODUCT_AGGREGATE = 'product';

/** A product row without its version: what the caches store, as JSON. */
export interface ProductValue {
  readonly id: number;
  readonly name: string;
  readonly priceCents: number;
}

/** A product row with its version. */
export interface VersionedProduct {
  readonly version: bigint;
  readonly value: ProductValue;
}

/**
 * What the event tells the cache: `invalidate` (drop the entry at the new version; readers
 * reload) or `upsert` (write the new value through, as the read path's JSON codec stores it).
 */
export type ProductEventMode = 'invalidate' | 'upsert';

/** The cache key of a product under `keyPrefix` (the default mapping's `<prefix><aggregateType>:<id>`). */
export function productKey(keyPrefix: string, id: number, aggregateType = PRODUCT_AGGREGATE): string {
  return `${keyPrefix}${aggregateType}:${id}`;
}

/** The bytes an entry holds for `value`: the read path's JSON codec encoding. */
export function productBytes(value: ProductValue): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/**
 * Creates the table if missing and inserts products 1..`count` that do not exist yet, at
 * version 1 with no event (the caches start empty, so nothing needs invalidating).
 */
export async function ensureProducts(pool: Pool, count: number): Promise<void> {
  await pool.query(`CREATE TABLE IF NOT EXISTS product (
    id INT NOT NULL PRIMARY KEY,
    name VARCHAR(64) NOT NULL,
    price_cents BIGINT NOT NULL,
    version BIGINT NOT NULL
  ) ENGINE = InnoDB`);
  const rows = Array.from({ length: count }, (_, i) => [i + 1, `product ${i + 1}`, 1000 + i, 1]);
  if (rows.length > 0) await pool.query('INSERT IGNORE INTO product (id, name, price_cents, version) VALUES ?', [rows]);
}

/** Options of {@link updateProduct}. */
export interface UpdateProductOptions {
  /** Default `invalidate`. */
  readonly mode?: ProductEventMode;
  /** Aggregate type (topic suffix) and cache entity. Default {@link PRODUCT_AGGREGATE}; tests use their own. */
  readonly aggregateType?: string;
  readonly writer?: OutboxWriterOptions;
}

/**
 * Updates product `id` to `name` / `priceCents` and publishes its cache-change event in the same
 * transaction. `schema` is the writer schema of `outbox.event.<aggregateType>-value` (the shipped
 * io.outboxcache.CacheChange). Resolves once committed, to the new version and value.
 */
export async function updateProduct(
  pool: Pool,
  id: number,
  change: { readonly name: string; readonly priceCents: number },
  schema: WriterSchema,
  options: UpdateProductOptions = {},
): Promise<VersionedProduct> {
  const mode = options.mode ?? 'invalidate';
  const aggregateType = options.aggregateType ?? PRODUCT_AGGREGATE;
  const value: ProductValue = { id, name: change.name, priceCents: change.priceCents };
  const version = await withOutboxTransaction(pool, async (conn, publish) => {
    const next = await updateWithVersion(conn,
      'UPDATE product SET name = ?, price_cents = ?, version = LAST_INSERT_ID(version + 1) WHERE id = ?',
      [change.name, change.priceCents, id]);
    const event: CacheChange = {
      entity: aggregateType, id: String(id), version: next,
      operation: mode === 'upsert' ? 'UPSERT' : 'INVALIDATE',
      value: mode === 'upsert' ? productBytes(value) : null,
      extraKeys: [], occurredAt: Date.now(),
    };
    await publish({ aggregateType, aggregateId: String(id), type: 'ProductChanged', version: next, value: event, schema });
    return next;
  }, options.writer);
  return { version, value };
}

interface ProductRow extends RowDataPacket {
  id: number;
  name: string;
  price_cents: number | string;
  version: number | string;
}

function toVersioned(row: ProductRow): VersionedProduct {
  return { version: BigInt(row.version), value: { id: row.id, name: row.name, priceCents: Number(row.price_cents) } };
}

/** Reads one product with its version (null: no such row); a valid read-path loader result. */
export async function loadProduct(pool: Pool, id: number): Promise<VersionedProduct | null> {
  const [rows] = await pool.query<ProductRow[]>('SELECT id, name, price_cents, version FROM product WHERE id = ?', [id]);
  const row = rows[0];
  return row ? toVersioned(row) : null;
}

/** Every product with its current version, by id. */
export async function allProducts(pool: Pool): Promise<Map<number, VersionedProduct>> {
  const [rows] = await pool.query<ProductRow[]>('SELECT id, name, price_cents, version FROM product');
  return new Map(rows.map((row) => [row.id, toVersioned(row)]));
}
