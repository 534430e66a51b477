/**
 * SQL text and value formatting for the outbox table, shared by the writer, the purge and
 * `migrate`. Pure: no connection here.
 */
import { OutboxWriteError } from '../errors.js';

/** A value bound to a `?` placeholder (what mysql2 can send). */
export type SqlParam = string | number | bigint | boolean | Date | Buffer | null;

/** Default outbox table name (what Debezium's `table.include.list` usually points at). */
export const DEFAULT_OUTBOX_TABLE = 'outbox';

const IDENTIFIER = /^[A-Za-z0-9_]{1,64}$/;

/** A validated table name: `table` or `database.table`, with its backtick-quoted SQL form. */
export interface OutboxTableName {
  /** As given, e.g. `outbox` or `app.outbox`. */
  readonly name: string;
  /** Quoted for SQL, e.g. `` `app`.`outbox` ``. */
  readonly sql: string;
  /** Database part, when the name was qualified. */
  readonly database?: string;
  /** Unqualified table part. */
  readonly table: string;
}

/**
 * Parses a table name (`table` or `database.table`, each part `[A-Za-z0-9_]{1,64}`). Only such
 * names are accepted because the name is spliced into SQL text. Throws a non-retriable
 * OutboxWriteError (`OUTBOX_INVALID_TABLE`) otherwise.
 */
export function outboxTableName(name: string = DEFAULT_OUTBOX_TABLE): OutboxTableName {
  const parts = typeof name === 'string' ? name.split('.') : [];
  if ((parts.length !== 1 && parts.length !== 2) || !parts.every((p) => IDENTIFIER.test(p))) {
    throw new OutboxWriteError(
      `invalid outbox table name '${String(name)}': use table or database.table, each part [A-Za-z0-9_]{1,64}`,
      { code: 'OUTBOX_INVALID_TABLE' },
    );
  }
  const [first, second] = parts as [string, string | undefined];
  const sql = parts.map((p) => `\`${p}\``).join('.');
  return second === undefined ? { name, sql, table: first } : { name, sql, database: first, table: second };
}

/** The INSERT the writer runs; parameters in column order of {@link OUTBOX_COLUMNS}. */
export function insertEventSql(table: OutboxTableName): string {
  return `INSERT INTO ${table.sql} (${OUTBOX_COLUMNS.join(', ')}) VALUES (?, ?, ?, ?, ?, ?, ?)`;
}

/** The DELETE that follows the INSERT in the default (delete-after-insert) mode. */
export function deleteEventSql(table: OutboxTableName): string {
  return `DELETE FROM ${table.sql} WHERE id = ?`;
}

/** MESSAGE_TEXT of the SIGNAL raised by {@link mariadbPublishSql} outside a transaction. */
export const NOT_IN_TRANSACTION_SIGNAL = 'outbox-cache: no transaction is open on this connection';

/**
 * The writer's statements as one MariaDB anonymous compound statement: optionally a transaction
 * check that SIGNALs before anything is written (no transaction open and autocommit on), the
 * INSERT, and unless `keep` the DELETE (parameters: the INSERT's, then the id again). Not atomic
 * as a block, exactly like the separate statements it replaces.
 */
export function mariadbPublishSql(table: OutboxTableName, options: { readonly check: boolean; readonly keep: boolean }): string {
  const parts = [
    ...(options.check
      ? [`IF @@in_transaction = 0 AND @@autocommit = 1 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '${NOT_IN_TRANSACTION_SIGNAL}'; END IF`]
      : []),
    insertEventSql(table),
    ...(options.keep ? [] : [deleteEventSql(table)]),
  ];
  return `BEGIN NOT ATOMIC ${parts.join('; ')}; END`;
}

/** Column names in DDL order, as Debezium's EventRouter expects them (DESIGN.md §2). */
export const OUTBOX_COLUMNS = ['id', 'aggregatetype', 'aggregateid', 'type', 'version', 'occurred_at', 'payload'] as const;

/**
 * `DATETIME(3)` text in UTC for epoch milliseconds, e.g. `2025-01-02 03:04:05.678`. Sent as text,
 * not as a Date, so the value does not depend on the connection's `timezone` option.
 * Only for years 1000..9999 (the validator guarantees it).
 */
export function formatDateTime3(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('T', ' ').replace('Z', '');
}

/** MySQL protocol server status flags (the same on MySQL 8 and MariaDB). */
export const SERVER_STATUS = {
  /** A transaction is active (set by START TRANSACTION / BEGIN, cleared by COMMIT / ROLLBACK). */
  IN_TRANS: 0x0001,
  /** autocommit is on. */
  AUTOCOMMIT: 0x0002,
} as const;

/**
 * True when a statement sent on this session would NOT be committed on its own: a transaction
 * is active, or autocommit is off (the next statement opens a transaction that stays open).
 * `serverStatus` comes from any OK packet of the session.
 */
export function isTransactional(serverStatus: number): boolean {
  return (serverStatus & SERVER_STATUS.IN_TRANS) !== 0 || (serverStatus & SERVER_STATUS.AUTOCOMMIT) === 0;
}
