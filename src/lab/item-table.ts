/**
 * The lab's domain table, `lab_item`: one row per (strategy, id), so every strategy works on the
 * same table and schema but on rows of its own (a write of one strategy must not look like a
 * missed invalidation of another). Its writes: a plain versioned UPDATE (the seeds), the same
 * UPDATE with an outbox event in its transaction (ours, and the binlog tail's outbox), and
 * write-behind's conditional flush.
 */
import type { Connection, Pool, RowDataPacket } from 'mysql2/promise';
import type { CacheChange } from '../codec/cache-change.js';
import type { WriterSchema } from '../codec/types.js';
import { updateWithVersion } from '../outbox/version.js';
import { withOutboxTransaction } from '../outbox/writer.js';

/** What the caches store of an item. */
export interface ItemValue {
  readonly id: number;
  readonly name: string;
  readonly priceCents: number;
}

/** An item row and its version. */
export interface LoadedItem {
  readonly version: bigint;
  readonly value: ItemValue;
}

/** Aggregate type of the lab's outbox events (the shipped CacheChange subject of `product`). */
export const LAB_AGGREGATE = 'product';
/**
 * Entity named in the events: keys are `<prefix>product:<id>`, as the default mapping builds them
 * (the mapping allows only keys in the aggregate types' namespaces).
 */
export const LAB_ENTITY = LAB_AGGREGATE;

const UPDATE_SQL = 'UPDATE lab_item SET name = ?, price_cents = ?, version = LAST_INSERT_ID(version + 1) WHERE strategy = ? AND id = ?';

/** The cache key of item `id` under `keyPrefix` (the default mapping's `<prefix><entity>:<id>`). */
export function itemKey(keyPrefix: string, id: number): string {
  return `${keyPrefix}${LAB_ENTITY}:${id}`;
}

/** A new value for item `id` (a fresh name and price each call). */
export function nextItemValue(id: number, random: () => number = Math.random): ItemValue {
  return { id, name: `item ${id} @${Date.now()}.${Math.floor(random() * 1e6)}`, priceCents: 100 + Math.floor(random() * 9900) };
}

/** Creates `lab_item` when missing and rows 1..`keys` at version 1 for each strategy. */
export async function ensureItems(pool: Pool, strategies: readonly string[], keys: number): Promise<void> {
  await pool.query(`CREATE TABLE IF NOT EXISTS lab_item (
    strategy VARCHAR(32) NOT NULL,
    id INT NOT NULL,
    name VARCHAR(64) NOT NULL,
    price_cents BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (strategy, id)
  ) ENGINE = InnoDB`);
  const rows = strategies.flatMap((s) => Array.from({ length: keys }, (_, i) => [s, i + 1, `item ${i + 1}`, 1000 + i, 1]));
  if (rows.length > 0) await pool.query('INSERT IGNORE INTO lab_item (strategy, id, name, price_cents, version) VALUES ?', [rows]);
}

/** Commits a plain versioned UPDATE of the item (autocommit); resolves to the new version. */
export async function updateItem(pool: Pool, strategy: string, value: ItemValue): Promise<bigint> {
  const conn = await pool.getConnection();
  try {
    return await updateWithVersion(conn, UPDATE_SQL, [value.name, value.priceCents, strategy, value.id]);
  } finally {
    conn.release();
  }
}

/**
 * Runs the versioned UPDATE inside `conn`'s open transaction (for strategies that do more in the
 * same transaction); resolves to the new version.
 */
export function updateItemIn(conn: Connection, strategy: string, value: ItemValue): Promise<bigint> {
  return updateWithVersion(conn, UPDATE_SQL, [value.name, value.priceCents, strategy, value.id]);
}

/**
 * Commits the UPDATE and an INVALIDATE event for `<entity>:<id>` at the new version in one
 * transaction, in the outbox `table`; resolves to the new version.
 */
export async function updateItemWithEvent(pool: Pool, strategy: string, value: ItemValue, schema: WriterSchema, table: string): Promise<bigint> {
  return withOutboxTransaction(pool, async (conn, publish) => {
    const version = await updateItemIn(conn, strategy, value);
    const change: CacheChange = {
      entity: LAB_ENTITY, id: String(value.id), version, operation: 'INVALIDATE', value: null, extraKeys: [], occurredAt: Date.now(),
    };
    await publish({ aggregateType: LAB_AGGREGATE, aggregateId: String(value.id), type: 'ItemChanged', version, value: change, schema });
    return version;
  }, { table });
}

/** Write-behind's flush: stores `value` at `version` unless the row already holds that or newer. */
export async function flushItem(pool: Pool, strategy: string, value: ItemValue, version: bigint): Promise<void> {
  await pool.query('UPDATE lab_item SET name = ?, price_cents = ?, version = ? WHERE strategy = ? AND id = ? AND version < ?',
    [value.name, value.priceCents, version.toString(), strategy, value.id, version.toString()]);
}

interface ItemRow extends RowDataPacket {
  strategy: string;
  id: number;
  name: string;
  price_cents: number | string;
  version: number | string;
}

/** Reads one item of `strategy` with its version; throws when the row is missing (the lab never deletes rows). */
export async function loadItem(pool: Pool, strategy: string, id: number): Promise<LoadedItem> {
  const [rows] = await pool.query<ItemRow[]>('SELECT id, name, price_cents, version FROM lab_item WHERE strategy = ? AND id = ?', [strategy, id]);
  const row = rows[0];
  if (!row) throw new Error(`lab_item ${strategy}/${id} does not exist`);
  return { version: BigInt(row.version), value: { id: row.id, name: row.name, priceCents: Number(row.price_cents) } };
}

/** An item as the database holds it at the end. */
export interface FinalRow {
  readonly version: bigint;
  readonly name: string;
}

/** The database's version and name of every item, by strategy then id: the ground truth at the end. */
export async function allRows(pool: Pool): Promise<Map<string, Map<number, FinalRow>>> {
  const [rows] = await pool.query<ItemRow[]>('SELECT strategy, id, name, version FROM lab_item');
  const out = new Map<string, Map<number, FinalRow>>();
  for (const row of rows) {
    let byId = out.get(row.strategy);
    if (!byId) out.set(row.strategy, (byId = new Map()));
    byId.set(row.id, { version: BigInt(row.version), name: row.name });
  }
  return out;
}
