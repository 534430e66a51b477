/**
 * Durable relay positions in MySQL: one row per relay name in a small table the store creates
 * itself (DDL in `schemas/sql/relay-001-position.sql`). Every query has a deadline, so a frozen
 * connection delays a position write but never wedges the relay. (The one-relay lock lives in
 * relay-lock.ts, on a connection of its own.)
 */
import { readFileSync } from 'node:fs';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { relayMysqlError } from './mysql-errors.js';
import type { BinlogPosition } from './position.js';
import { DEFAULT_QUERY_TIMEOUT_MS, timedQuery } from './timed-query.js';

const DDL_URL = new URL('../../schemas/sql/relay-001-position.sql', import.meta.url);
/** Table name used when none is configured (the name written in the DDL file). */
export const DEFAULT_POSITION_TABLE = 'outbox_relay_position';

/** A position as stored, with the server it belongs to. */
export interface StoredPosition extends BinlogPosition {
  /** `@@server_id` of the server whose binlog the position points into. */
  readonly serverId: number;
}

/** Quotes a MySQL identifier (backticks doubled inside). */
export function quoteIdentifier(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

/** Reads and writes relay positions in `database`.`table` through `pool`. */
export class MySqlPositionStore {
  private readonly qualified: string;

  constructor(
    private readonly pool: Pool,
    database: string,
    readonly table: string = DEFAULT_POSITION_TABLE,
    private readonly timeoutMs: number = DEFAULT_QUERY_TIMEOUT_MS,
  ) {
    this.qualified = `${quoteIdentifier(database)}.${quoteIdentifier(table)}`;
  }

  /** Creates the table when missing (idempotent). Needs CREATE on the database. */
  async ensureTable(): Promise<void> {
    const ddl = readFileSync(DDL_URL, 'utf8')
      .replace(/^--.*$/gm, '')
      .replace(quoteIdentifier(DEFAULT_POSITION_TABLE), this.qualified);
    await this.run(`creating the relay position table ${this.qualified}`, () => timedQuery(this.pool, ddl, [], this.timeoutMs));
  }

  /** The stored position of `relayName`, or undefined on its first start. */
  async load(relayName: string): Promise<StoredPosition | undefined> {
    const [rows] = await this.run(`reading the position of relay '${relayName}'`, () =>
      timedQuery<RowDataPacket[]>(this.pool,
        `SELECT binlog_file, CAST(binlog_position AS CHAR) AS binlog_position, source_server_id FROM ${this.qualified} WHERE relay_name = ?`,
        [relayName], this.timeoutMs,
      ),
    );
    const row = rows[0];
    if (!row) return undefined;
    return { file: String(row.binlog_file), position: Number(row.binlog_position), serverId: Number(row.source_server_id) };
  }

  /**
   * Stores `position` for `relayName`. Call only once every outbox event before it has been
   * acknowledged downstream. Rejects with a retriable error when MySQL is unreachable.
   */
  async save(relayName: string, position: BinlogPosition, serverId: number): Promise<void> {
    await this.run(`saving the position of relay '${relayName}'`, () =>
      timedQuery(this.pool,
        `INSERT INTO ${this.qualified} (relay_name, binlog_file, binlog_position, source_server_id, updated_at)
         VALUES (?, ?, ?, ?, UTC_TIMESTAMP(3))
         ON DUPLICATE KEY UPDATE binlog_file = ?, binlog_position = ?, source_server_id = ?, updated_at = UTC_TIMESTAMP(3)`,
        [relayName, position.file, position.position, serverId, position.file, position.position, serverId], this.timeoutMs,
      ),
    );
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw relayMysqlError(what, err);
    }
  }
}
