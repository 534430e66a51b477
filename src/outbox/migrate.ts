/**
 * Creates the outbox table from `schemas/sql/001-outbox.sql` (idempotent) and checks that an
 * existing table has the columns the writer and Debezium rely on.
 */
import { readFile } from 'node:fs/promises';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { OutboxWriteError } from '../errors.js';
import { outboxTableName, type OutboxTableName } from './sql.js';

/** Location of the DDL; `schemas/` ships with the package next to `dist/`. */
export const OUTBOX_DDL_FILE = new URL('../../schemas/sql/001-outbox.sql', import.meta.url);

const CREATE_HEAD = /CREATE TABLE IF NOT EXISTS `outbox`/;

/**
 * The outbox DDL for `table` as one statement: comments and the final semicolon removed, the
 * table name substituted. Pure over the file text.
 */
export function outboxDdlFor(fileText: string, table: OutboxTableName): string {
  if (!CREATE_HEAD.test(fileText)) throw new Error('outbox DDL file does not contain CREATE TABLE IF NOT EXISTS `outbox`');
  return fileText
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .trim()
    .replace(/;$/, '')
    .replace(CREATE_HEAD, `CREATE TABLE IF NOT EXISTS ${table.sql}`);
}

/** Expected shape of each column (information_schema terms). */
const EXPECTED: Readonly<Record<string, { type: string; length?: number; precision?: number }>> = {
  id: { type: 'char', length: 36 },
  aggregatetype: { type: 'varchar', length: 64 },
  aggregateid: { type: 'varchar', length: 255 },
  type: { type: 'varchar', length: 128 },
  version: { type: 'bigint' },
  occurred_at: { type: 'datetime', precision: 3 },
  payload: { type: 'mediumblob' },
};

/** Result of {@link migrateOutbox}. */
export interface MigrateResult {
  /** Quoted table name that was checked. */
  readonly table: string;
  /** False when the table already existed (and was left as it was). */
  readonly created: boolean;
}

/**
 * Applies the outbox DDL on `conn` (its current database unless `table` is qualified) and verifies
 * the columns. Safe to run any number of times. Rejects with OutboxWriteError
 * `OUTBOX_TABLE_MISMATCH` listing every column that differs from DESIGN.md §2.
 */
export async function migrateOutbox(conn: Connection, options: { readonly table?: string } = {}): Promise<MigrateResult> {
  const table = outboxTableName(options.table);
  const before = await columnsOf(conn, table);
  const ddl = outboxDdlFor(await readFile(OUTBOX_DDL_FILE, 'utf8'), table);
  await conn.query(ddl);
  const problems = compareColumns(await columnsOf(conn, table));
  if (problems.length > 0) {
    throw new OutboxWriteError(`table ${table.sql} exists but does not match the outbox contract: ${problems.join('; ')}`, {
      code: 'OUTBOX_TABLE_MISMATCH',
    });
  }
  return { table: table.sql, created: before.length === 0 };
}

interface ColumnRow extends RowDataPacket {
  name: string;
  type: string;
  length: number | string | null;
  precision: number | string | null;
}

async function columnsOf(conn: Connection, table: OutboxTableName): Promise<ColumnRow[]> {
  const [rows] = await conn.query<ColumnRow[]>(
    `SELECT COLUMN_NAME AS name, LOWER(DATA_TYPE) AS type, CHARACTER_MAXIMUM_LENGTH AS length,
            DATETIME_PRECISION AS \`precision\`
       FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?`,
    [table.database ?? null, table.table],
  );
  return rows;
}

/** Differences between actual columns and the contract; empty when they match. */
export function compareColumns(columns: readonly { name: string; type: string; length: number | string | null; precision: number | string | null }[]): string[] {
  const problems: string[] = [];
  const byName = new Map(columns.map((c) => [c.name.toLowerCase(), c]));
  for (const [name, want] of Object.entries(EXPECTED)) {
    const got = byName.get(name);
    if (!got) {
      problems.push(`column ${name} is missing`);
      continue;
    }
    const lengthOk = want.length === undefined || Number(got.length) === want.length;
    const precisionOk = want.precision === undefined || Number(got.precision) === want.precision;
    if (got.type !== want.type || !lengthOk || !precisionOk) {
      problems.push(`column ${name} is ${got.type}${got.length === null ? '' : `(${got.length})`}, expected ${describe(want)}`);
    }
  }
  return problems;
}

function describe(want: { type: string; length?: number; precision?: number }): string {
  const arg = want.length ?? want.precision;
  return arg === undefined ? want.type : `${want.type}(${arg})`;
}
