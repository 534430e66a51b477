/**
 * `inspect` as a library call: reads each key's type, TTL, length and first bytes (never a whole
 * large value unless asked), decodes it, and with a query compares it with the database's version.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { OutboxCacheError, errorMessage } from '../errors.js';
import { bindKeySql, decodeKeyState, splitKey, verdictOf, type KeyState, type Verdict } from './key-state.js';

/** First bytes read of every key: the header, a lease token and a kept-stale prefix fit. */
const HEAD_BYTES = 128;

/** One inspected key. */
export interface InspectedKey {
  readonly state: KeyState;
  /** The database version (null: no row); undefined when no query was given. */
  readonly dbVersion?: bigint | null;
  readonly verdict: Verdict;
  /** The whole stored value's data part, only when asked for (`showValue`). */
  readonly value?: Buffer;
}

/** Options of {@link inspectKeys}. */
export interface InspectOptions {
  readonly redis: Redis | Cluster;
  readonly keys: readonly string[];
  /** Key prefix, to find each key's namespace and id for the query. */
  readonly keyPrefix?: string;
  /** With `sql`: a connection to the database holding the rows. */
  readonly mysql?: Connection;
  /** Query whose first column of the first row is the version; `:id` and `:namespace` are bound. */
  readonly sql?: string;
  readonly showValue?: boolean;
}

/** Thrown when Redis or MySQL fails during `inspect`. */
export class InspectError extends OutboxCacheError {}

/** Inspects every key in order. */
export async function inspectKeys(options: InspectOptions): Promise<InspectedKey[]> {
  const out: InspectedKey[] = [];
  for (const key of options.keys) {
    const state = await readKeyState(options.redis, key);
    const dbVersion = options.mysql && options.sql ? await databaseVersion(options, key) : undefined;
    const value = options.showValue && (state.kind === 'entry') ? await dataOf(options.redis, key) : undefined;
    out.push({ state, dbVersion, verdict: verdictOf(state, dbVersion), value });
  }
  return out;
}

async function readKeyState(redis: Redis | Cluster, key: string): Promise<KeyState> {
  try {
    const type = await redis.type(key);
    if (type !== 'string') return decodeKeyState(key, type, await redis.pttl(key), 0, Buffer.alloc(0));
    const [pttl, length, head] = await Promise.all([redis.pttl(key), redis.strlen(key), redis.getrangeBuffer(key, 0, HEAD_BYTES - 1)]);
    return decodeKeyState(key, pttl === -2 ? 'none' : type, pttl, length, head);
  } catch (err) {
    throw new InspectError(`Redis: cannot read ${key}: ${errorMessage(err)}`, { code: 'INSPECT_REDIS_FAILED', retriable: true, cause: err });
  }
}

async function dataOf(redis: Redis | Cluster, key: string): Promise<Buffer | undefined> {
  const raw = await redis.getBuffer(key);
  if (!raw) return undefined;
  return raw.subarray(raw.indexOf(0x3a) + 1);
}

async function databaseVersion(options: InspectOptions, key: string): Promise<bigint | null | undefined> {
  const parts = splitKey(key, options.keyPrefix ?? '');
  if (!parts || !options.mysql || !options.sql) return undefined;
  const { sql, params } = bindKeySql(options.sql, parts);
  let rows: RowDataPacket[];
  try {
    [rows] = await options.mysql.query<RowDataPacket[]>({ sql, values: params, rowsAsArray: true });
  } catch (err) {
    throw new InspectError(`MySQL: the version query failed for ${key}: ${errorMessage(err)}`, { code: 'INSPECT_MYSQL_FAILED', cause: err });
  }
  const first = (rows[0] as unknown as unknown[] | undefined)?.[0];
  if (first === undefined || first === null) return null;
  const text = String(first);
  if (!/^\d{1,19}$/.test(text)) {
    throw new InspectError(`MySQL: the version query returned ${JSON.stringify(text.slice(0, 40))} for ${key}, not a version`, { code: 'INSPECT_BAD_VERSION' });
  }
  return BigInt(text);
}
