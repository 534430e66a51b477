/**
 * A real lagging replica for the replica-reads fault: a second local MariaDB replicating the
 * lab's database from the primary with `MASTER_DELAY` seconds of delay (MariaDB's delayed
 * replication), started from the primary's current binlog end. Start it before the lab's database
 * is created: everything in that database then reaches the replica, `delaySeconds` late.
 */
import { createConnection, createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { startMariaDb, waitFor, type LocalMariaDb } from '../local-servers/index.js';

/** A running replica. */
export interface LabReplica {
  /** Pool on the replica with the lab's database selected (readers only). */
  readonly pool: Pool;
  readonly delaySeconds: number;
  /** Seconds_Behind_Master as the replica reports it now (undefined when not replicating). */
  secondsBehind(): Promise<number | undefined>;
  stop(): Promise<void>;
}

/** Options of {@link startReplica}. */
export interface StartReplicaOptions {
  /** URL of the primary (`mysql://root@127.0.0.1:PORT/`), a user with REPLICATION SLAVE. */
  readonly primaryUrl: string;
  /** The only database replicated (replicate_wild_do_table). */
  readonly database: string;
  readonly delaySeconds: number;
  readonly readers: number;
}

/** Starts and configures the replica; resolves once its replication threads run. */
export async function startReplica(options: StartReplicaOptions): Promise<LabReplica> {
  const primary = new URL(options.primaryUrl);
  const admin = await createConnection({ uri: primary.toString() });
  let file: string;
  let position: number;
  let primaryId: number;
  try {
    const [status] = await admin.query<RowDataPacket[]>('SHOW MASTER STATUS');
    const [ids] = await admin.query<RowDataPacket[]>('SELECT @@server_id AS id');
    file = String(status[0]?.File);
    position = Number(status[0]?.Position);
    primaryId = Number(ids[0]?.id);
  } finally {
    await admin.end();
  }
  const server: LocalMariaDb = await startMariaDb({ serverId: primaryId + 1 + Math.floor(Math.random() * 1000) });
  const conn = await createConnection({ uri: server.url });
  try {
    await conn.query('STOP SLAVE');
    // Table-level filter: it matches statements by the tables and database they touch, not by the
    // session's default database (which replicate_do_db would), so CREATE DATABASE passes too.
    await conn.query('SET GLOBAL replicate_wild_do_table = ?', [`${options.database.replace(/[_%\\]/g, (c) => `\\${c}`)}.%`]);
    await conn.query(
      `CHANGE MASTER TO MASTER_HOST = ?, MASTER_PORT = ?, MASTER_USER = ?, MASTER_PASSWORD = ?,
        MASTER_LOG_FILE = ?, MASTER_LOG_POS = ?, MASTER_DELAY = ?, MASTER_USE_GTID = no`,
      [primary.hostname, Number(primary.port), decodeURIComponent(primary.username) || 'root', decodeURIComponent(primary.password), file, position, options.delaySeconds],
    );
    await conn.query('START SLAVE');
    await waitFor('the replica\'s replication threads', async () => {
      const [rows] = await conn.query<RowDataPacket[]>('SHOW SLAVE STATUS');
      const row = rows[0];
      if (row?.Last_IO_Error) throw new Error(`replica cannot replicate: ${String(row.Last_IO_Error)}`);
      return row?.Slave_IO_Running === 'Yes' && row.Slave_SQL_Running === 'Yes';
    }, { timeoutMs: 20_000, intervalMs: 100 });
  } catch (err) {
    await conn.end().catch(() => {});
    await server.stop(2000);
    throw err;
  }
  await conn.end();
  const url = new URL(server.url);
  url.pathname = `/${options.database}`;
  const pool = createPool({ uri: url.toString(), connectionLimit: options.readers + 2, timezone: 'Z', supportBigNumbers: true });
  return {
    pool,
    delaySeconds: options.delaySeconds,
    async secondsBehind() {
      const [rows] = await pool.query<RowDataPacket[]>('SHOW SLAVE STATUS');
      const value = rows[0]?.Seconds_Behind_Master;
      return value === null || value === undefined ? undefined : Number(value);
    },
    async stop() {
      await pool.end().catch(() => {});
      await server.stop();
    },
  };
}
