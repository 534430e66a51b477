/**
 * Checks the relay makes against the source server before it streams: binlog settings, the
 * outbox table's columns, the binlog files that still exist, and the server's identity.
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { RelayError } from './errors.js';
import { relayMysqlError } from './mysql-errors.js';
import { formatPosition, type BinlogPosition } from './position.js';
import { timedQuery } from './timed-query.js';

/** One binlog file the server still has. */
export interface BinlogFile {
  readonly file: string;
  /** Current size in bytes: for the last file, the end of the binlog (a transaction boundary). */
  readonly size: number;
}

/** Column → accepted DATA_TYPE values (information_schema), per DESIGN.md §2. */
const OUTBOX_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  id: ['char', 'varchar'],
  aggregatetype: ['char', 'varchar'],
  aggregateid: ['char', 'varchar'],
  type: ['char', 'varchar'],
  version: ['bigint'],
  occurred_at: ['datetime'],
  payload: ['tinyblob', 'blob', 'mediumblob', 'longblob', 'varbinary', 'binary'],
};

async function query(pool: Pool, what: string, sql: string, params: unknown[] = []): Promise<RowDataPacket[]> {
  try {
    const [rows] = await timedQuery<RowDataPacket[]>(pool, sql, params);
    return rows;
  } catch (err) {
    throw relayMysqlError(what, err);
  }
}

/**
 * Refuses a server whose binlog cannot carry outbox rows faithfully: binary logging off,
 * `binlog_format` other than ROW (an INSERT logged as a statement has no row image to read), or
 * `binlog_row_image` other than FULL. Lists every problem in one error.
 */
export async function checkBinlogSettings(pool: Pool): Promise<void> {
  const rows = await query(pool, 'reading binlog settings',
    'SELECT @@GLOBAL.log_bin AS log_bin, @@GLOBAL.binlog_format AS format, @@GLOBAL.binlog_row_image AS row_image');
  const row: Record<string, unknown> = rows[0] ?? {};
  const problems: string[] = [];
  if (Number(row.log_bin) !== 1) problems.push('binary logging is off (start the server with log_bin)');
  if (String(row.format).toUpperCase() !== 'ROW') problems.push(`binlog_format is ${String(row.format)}, must be ROW`);
  if (String(row.row_image).toUpperCase() !== 'FULL') problems.push(`binlog_row_image is ${String(row.row_image)}, must be FULL`);
  if (problems.length > 0) {
    throw new RelayError(`the server's binlog cannot be relayed: ${problems.join('; ')}`, { code: 'RELAY_BINLOG_SETTINGS' });
  }
}

/** Verifies that `database`.`table` has the outbox columns with usable types (all problems at once). */
export async function checkOutboxTable(pool: Pool, database: string, table: string): Promise<void> {
  const rows = await query(pool, 'reading the outbox table definition',
    'SELECT COLUMN_NAME AS name, DATA_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    [database, table]);
  if (rows.length === 0) {
    throw new RelayError(`outbox table ${database}.${table} does not exist (or the relay's user cannot see it)`,
      { code: 'RELAY_OUTBOX_TABLE' });
  }
  const types = new Map(rows.map((r) => [String(r.name).toLowerCase(), String(r.type).toLowerCase()]));
  const problems = Object.entries(OUTBOX_COLUMNS).flatMap(([column, accepted]) => {
    const type = types.get(column);
    if (type === undefined) return [`column ${column} is missing`];
    return accepted.includes(type) ? [] : [`column ${column} is ${type}, expected ${accepted.join(' or ')}`];
  });
  if (problems.length > 0) {
    throw new RelayError(`outbox table ${database}.${table} does not match DESIGN.md §2: ${problems.join('; ')}`,
      { code: 'RELAY_OUTBOX_TABLE' });
  }
}

/** The binlog files the server still has, oldest first (`SHOW BINARY LOGS`). */
export async function listBinlogFiles(pool: Pool): Promise<BinlogFile[]> {
  const rows = await query(pool, 'listing binary logs (needs REPLICATION CLIENT / BINLOG MONITOR)', 'SHOW BINARY LOGS');
  return rows.map((r) => ({ file: String(r.Log_name), size: Number(r.File_size) }));
}

/** `@@server_id` of the server, stored with positions so they are never used on another server. */
export async function serverId(pool: Pool): Promise<number> {
  const rows = await query(pool, 'reading @@server_id', 'SELECT @@GLOBAL.server_id AS id');
  return Number(rows[0]?.id);
}

/** The current end of the binlog: the last file at its current size. */
export function binlogEnd(files: readonly BinlogFile[]): BinlogPosition {
  const last = files.at(-1);
  if (!last) throw new RelayError('the server lists no binary logs: is log_bin on?', { code: 'RELAY_BINLOG_SETTINGS' });
  return { file: last.file, position: last.size };
}

/**
 * Throws a non-retriable `RELAY_POSITION_LOST` when `position` is not inside a binlog file the
 * server still has (purged by expiry or `PURGE BINARY LOGS`, or a reset binlog): events after it
 * may be gone, and only an operator can decide how to recover.
 */
export function checkPositionAvailable(position: BinlogPosition, files: readonly BinlogFile[], relayName: string): void {
  const file = files.find((f) => f.file === position.file);
  const fix = `Rebuild the cache (events may be lost), then delete relay '${relayName}' from the position table to restart at the end of the binlog, or start it at an explicit position.`;
  if (!file) {
    const available = files.length > 0 ? `${files[0]?.file} … ${files.at(-1)?.file}` : 'none';
    throw new RelayError(
      `relay '${relayName}' stopped at ${formatPosition(position)}, but the server no longer has binlog file ${position.file} (available: ${available}). ${fix}`,
      { code: 'RELAY_POSITION_LOST' },
    );
  }
  if (position.position > file.size) {
    throw new RelayError(
      `relay '${relayName}' stopped at ${formatPosition(position)}, beyond the end of that file (${file.size} bytes): the binlog was reset or belongs to another server. ${fix}`,
      { code: 'RELAY_POSITION_LOST' },
    );
  }
}
