/**
 * What a backfill reads and writes, as a checked, frozen spec: the table and its primary key, the
 * key template, where versions come from, how a row becomes the cached value. Builds the SQL and
 * renders keys and values. Pure: no I/O (a user serialiser module is loaded by the caller).
 */
import { ConfigError, OutboxCacheError, type ConfigProblem } from '../errors.js';
import { MAX_VERSION } from '../cache/stored-value.js';

/** A row as mysql2 returns it. */
export type Row = Readonly<Record<string, unknown>>;

/** Makes the cached value of a row: bytes or text (entry), null (known absent). */
export type RowSerializer = (row: Row) => Buffer | string | null;

/** A backfill of one namespace. */
export interface BackfillSpec {
  readonly namespace: string;
  /** `table` or `database.table`. */
  readonly table: string;
  /** Single-column primary key, scanned in ascending order. */
  readonly pk: string;
  /** Key template after the key prefix, e.g. `product:{id}`; columns in braces. */
  readonly key: string;
  /** Version from this column of the row, or from the outbox_version table. */
  readonly version: { readonly column: string } | { readonly table: string };
  /** Value columns (undefined: all), serialised as a JSON object unless `serializer` is given. */
  readonly columns?: readonly string[];
  /** SQL condition on the table's rows. */
  readonly where?: string;
  /** `fill` (entries, as a reader's fill) or `invalidate` (tombstones at the rows' versions). */
  readonly mode: 'fill' | 'invalidate';
}

const IDENTIFIER = /^[A-Za-z0-9_$]{1,64}$/;
const PLACEHOLDER = /\{([A-Za-z0-9_$]{1,64})\}/g;

/** Backtick-quotes `name` or `db.name`. */
export function quoteName(name: string): string {
  return name.split('.').map((part) => `\`${part}\``).join('.');
}

/** The columns a key template reads. */
export function templateColumns(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? ''))];
}

/** Every problem of `spec`, for one ConfigError (settings named as the user wrote them). */
export function specProblems(spec: BackfillSpec): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const columns = templateColumns(spec.key);
  if (!spec.key.startsWith(`${spec.namespace}:`)) {
    problems.push({ setting: '--key', message: `must start with the namespace, '${spec.namespace}:' (the sink's keys are <prefix><namespace>:<id>)` });
  }
  if (columns.length === 0) problems.push({ setting: '--key', message: 'must name at least one column in braces, e.g. {id}' });
  if (/[{}]/.test(spec.key.replace(PLACEHOLDER, ''))) problems.push({ setting: '--key', message: 'has a brace that is not a {column} placeholder' });
  if (!IDENTIFIER.test(spec.pk)) problems.push({ setting: '--pk', message: 'must be a column name' });
  for (const c of spec.columns ?? []) if (!IDENTIFIER.test(c)) problems.push({ setting: '--columns', message: `'${c}' is not a column name` });
  if (spec.where !== undefined && /;/.test(spec.where)) problems.push({ setting: '--where', message: 'must be one condition, without ;' });
  return problems;
}

/** Throws one ConfigError listing every problem of `spec`. */
export function assertSpec(spec: BackfillSpec): BackfillSpec {
  const problems = specProblems(spec);
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(spec);
}

/** Cached key of `row` (after the client's key prefix, which the caller prepends). */
export function renderKey(template: string, row: Row): string {
  return template.replace(PLACEHOLDER, (_m, column: string) => {
    const value = row[column];
    if (value === null || value === undefined) {
      throw new BackfillRowError(`key column ${column} is null`, { code: 'BACKFILL_KEY_NULL' });
    }
    return value instanceof Date ? value.toISOString() : Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
  });
}

/** The id part of a key (`<namespace>:<id>` → `<id>`), the outbox_version table's aggregateid. */
export function aggregateIdOf(spec: BackfillSpec, key: string): string {
  return key.slice(spec.namespace.length + 1);
}

/** Key scan: primary key and key columns of the next `limit` rows after `after` (undefined: from the start). */
export function keyScanSql(spec: BackfillSpec, after: unknown, limit: number): { sql: string; params: unknown[] } {
  const columns = [...new Set([spec.pk, ...templateColumns(spec.key), ...versionColumn(spec)])].map(quoteName).join(', ');
  const conditions = [after === undefined ? undefined : `${quoteName(spec.pk)} > ?`, spec.where && `(${spec.where})`].filter(Boolean);
  const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
  return {
    sql: `SELECT ${columns} FROM ${quoteName(spec.table)}${where} ORDER BY ${quoteName(spec.pk)} LIMIT ${limit}`,
    params: after === undefined ? [] : [after],
  };
}

function versionColumn(spec: BackfillSpec): string[] {
  return 'column' in spec.version ? [spec.version.column] : [];
}

/**
 * The rows of a batch, read after the leases: its primary-key range (one range scan, cheaper than
 * a list; rows inserted into the range since the scan are read too and ignored by the caller);
 * the where filter applies again.
 */
export function rowsSql(spec: BackfillSpec, first: unknown, last: unknown): { sql: string; params: unknown[] } {
  const where = spec.where ? ` AND (${spec.where})` : '';
  const pk = quoteName(spec.pk);
  return { sql: `SELECT * FROM ${quoteName(spec.table)} WHERE ${pk} >= ? AND ${pk} <= ?${where}`, params: [first, last] };
}

/** Versions of these aggregate ids from the outbox_version table. */
export function versionTableSql(table: string, namespace: string, ids: readonly string[]): { sql: string; params: unknown[] } {
  return {
    sql: `SELECT aggregateid, version FROM ${quoteName(table)} WHERE aggregatetype = ? AND aggregateid IN (?)`,
    params: [namespace, ids],
  };
}

/** A version read from the database as a bigint in 0 .. 2^63-1; null (no version row) is 0. */
export function parseVersion(value: unknown, where: string): bigint {
  if (value === null || value === undefined) return 0n;
  const text = typeof value === 'bigint' ? value.toString() : String(value);
  if (!/^\d{1,19}$/.test(text) || BigInt(text) > MAX_VERSION) {
    throw new BackfillRowError(`version of ${where} is not an integer in 0 .. 2^63-1`, { code: 'BACKFILL_VERSION_INVALID' });
  }
  return BigInt(text);
}

/** The default serialiser: the value columns (all by default) as one JSON object; bigints as text. */
export function jsonSerializer(columns?: readonly string[]): RowSerializer {
  return (row) => {
    const picked = columns ? Object.fromEntries(columns.map((c) => [c, row[c] ?? null])) : row;
    return JSON.stringify(picked, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  };
}

/** A row the backfill cannot write (null key column, bad version, serialiser failure). Not retriable. */
export class BackfillRowError extends OutboxCacheError {}
