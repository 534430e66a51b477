/**
 * Durable relay positions in MySQL: one row per relay name in a small table the store creates
 * itself (DDL in `schemas/sql/relay-001-position.sql`), plus a server-wide named lock so that two
 * relays with the same name never run at once.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { RelayError } from './errors.js';
import { relayMysqlError } from './mysql-errors.js';
import type { BinlogPosition } from './position.js';

const DDL_URL = new URL('../../schemas/sql/relay-001-position.sql', import.meta.url);
/** Table name used when none is configured (the name written in the DDL file). */
export const DEFAULT_POSITION_TABLE = 'outbox_relay_position';

/** A position as stored, with the server it belongs to. */
export interface StoredPosition extends BinlogPosition {
  /** `@@server_id` of the server whose binlog the position points into. */
  readonly serverId: number;
}

/** Held while a relay runs; `release` frees the name for the next relay. */
export interface RelayLock {
  release(): Promise<void>;
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
    private readonly database: string,
    readonly table: string = DEFAULT_POSITION_TABLE,
  ) {
    this.qualified = `${quoteIdentifier(database)}.${quoteIdentifier(table)}`;
  }

  /** Creates the table when missing (idempotent). Needs CREATE on the database. */
  async ensureTable(): Promise<void> {
    const ddl = readFileSync(DDL_URL, 'utf8')
      .replace(/^--.*$/gm, '')
      .replace(quoteIdentifier(DEFAULT_POSITION_TABLE), this.qualified);
    await this.run(`creating the relay position table ${this.qualified}`, () => this.pool.query(ddl));
  }

  /** The stored position of `relayName`, or undefined on its first start. */
  async load(relayName: string): Promise<StoredPosition | undefined> {
    const [rows] = await this.run(`reading the position of relay '${relayName}'`, () =>
      this.pool.query<RowDataPacket[]>(
        `SELECT binlog_file, CAST(binlog_position AS CHAR) AS binlog_position, source_server_id FROM ${this.qualified} WHERE relay_name = ?`,
        [relayName],
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
      this.pool.query(
        `INSERT INTO ${this.qualified} (relay_name, binlog_file, binlog_position, source_server_id, updated_at)
         VALUES (?, ?, ?, ?, UTC_TIMESTAMP(3))
         ON DUPLICATE KEY UPDATE binlog_file = ?, binlog_position = ?, source_server_id = ?, updated_at = UTC_TIMESTAMP(3)`,
        [relayName, position.file, position.position, serverId, position.file, position.position, serverId],
      ),
    );
  }

  /**
   * Takes the server-wide lock of `relayName` on a connection held until `release`. Throws a
   * non-retriable `RELAY_ALREADY_RUNNING` when another process holds it.
   */
  async lock(relayName: string): Promise<RelayLock> {
    // User lock names are limited to 64 characters: hash database and relay name into one.
    const digest = createHash('sha256').update(`${this.database}\0${relayName}`).digest('hex').slice(0, 40);
    const name = `outbox-cache-relay:${digest}`;
    const conn: PoolConnection = await this.run('connecting to MySQL', () => this.pool.getConnection());
    try {
      const [rows] = await conn.query<RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS got', [name]);
      if (Number(rows[0]?.got) !== 1) {
        throw new RelayError(
          `relay '${relayName}' is already running against database '${this.database}' (lock ${name} is held); stop it first or choose another relay name`,
          { code: 'RELAY_ALREADY_RUNNING' },
        );
      }
    } catch (err) {
      conn.release();
      throw relayMysqlError(`locking relay '${relayName}'`, err);
    }
    return {
      async release() {
        try {
          await conn.query('SELECT RELEASE_LOCK(?)', [name]);
          conn.release();
        } catch {
          // The lock dies with its connection; destroying it is enough.
          conn.destroy();
        }
      },
    };
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw relayMysqlError(what, err);
    }
  }
}
