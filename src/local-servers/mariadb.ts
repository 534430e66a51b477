import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createConnection } from 'mysql2/promise';
import { findBinary, freePort, killChild, MissingBinaryError, spawnServer, waitFor, type LocalServer } from './process.js';

const run = promisify(execFile);

/** A MariaDB server started on loopback with the binlog on (ROW, FULL). */
export interface LocalMariaDb extends LocalServer {
  readonly port: number;
  /** `mysql://root@127.0.0.1:PORT/` (root has no password; the server listens on loopback only). */
  readonly url: string;
  /** Data directory (binlog files live here too). */
  readonly dataDir: string;
}

/** Options of {@link startMariaDb}. */
export interface StartMariaDbOptions {
  /**
   * Durable commits (`sync_binlog=1`, `innodb_flush_log_at_trx_commit=1`), for benchmarks.
   * Default false: tests trade durability for speed.
   */
  readonly durable?: boolean;
  readonly port?: number;
  readonly serverId?: number;
  /**
   * Directory of the server (data, binlog, socket, pid file), owned by the caller and kept on
   * stop; its data directory is initialised only if it does not exist yet, so a server killed
   * and started again on the same `dir` and `port` is a restart of the same server. Default: a
   * new temporary directory, removed on stop.
   */
  readonly dir?: string;
}

/**
 * Initialises a fresh data directory with `mariadb-install-db` and starts `mariadbd` on
 * 127.0.0.1 and a free port, binlog on with `binlog_format=ROW`, `binlog_row_image=FULL`.
 * Without a given port, a start that loses its port to another process is retried on a new one
 * (twice at most).
 */
export async function startMariaDb(options: StartMariaDbOptions = {}): Promise<LocalMariaDb> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startMariaDbOnce(options, options.port ?? (await freePort()));
    } catch (err) {
      if (options.port !== undefined || attempt >= 3 || err instanceof MissingBinaryError) throw err;
    }
  }
}

async function startMariaDbOnce(options: StartMariaDbOptions, port: number): Promise<LocalMariaDb> {
  const mariadbd = findBinary('mariadbd', 'mariadb-server');
  const installDb = findBinary('mariadb-install-db', 'mariadb-server');
  const owned = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'outbox-cache-mariadb-'));
  const dataDir = join(dir, 'data');
  const asRoot = userInfo().uid === 0;
  const userArgs = asRoot ? ['--user=root'] : [];
  const cleanup = (): void => {
    if (owned) rmSync(dir, { recursive: true, force: true });
  };
  if (!owned) mkdirSync(dir, { recursive: true });
  // A caller's dir initialised by an earlier start is restarted as it is.
  if (owned || !existsSync(dataDir)) {
    try {
      await run(installDb, [
        '--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal',
        '--skip-test-db', '--skip-name-resolve', ...userArgs,
      ]);
    } catch (err) {
      cleanup();
      if (!owned) rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`mariadb-install-db failed: ${(err as Error).message}`);
    }
  }
  const durable = options.durable ?? false;
  const spawned = spawnServer(mariadbd, [
    '--no-defaults', ...userArgs, `--datadir=${dataDir}`, `--socket=${join(dir, 'mysqld.sock')}`,
    `--pid-file=${join(dir, 'mysqld.pid')}`, `--port=${port}`, '--bind-address=127.0.0.1',
    '--skip-name-resolve', `--server-id=${options.serverId ?? 1}`,
    `--log-bin=${join(dataDir, 'binlog')}`, '--binlog-format=ROW', '--binlog-row-image=FULL',
    `--sync-binlog=${durable ? 1 : 0}`, `--innodb-flush-log-at-trx-commit=${durable ? 1 : 2}`,
    '--innodb-buffer-pool-size=128M', '--innodb-log-file-size=64M', '--max-connections=500',
    '--character-set-server=utf8mb4', '--collation-server=utf8mb4_unicode_ci',
    '--default-time-zone=+00:00', '--performance-schema=OFF', '--skip-log-error',
  ]);
  const url = `mysql://root@127.0.0.1:${port}/`;
  const stop = async (graceMs?: number): Promise<void> => {
    await killChild(spawned.child, graceMs ?? 20_000);
    cleanup();
  };
  try {
    await waitFor(
      `mariadbd on port ${port}`,
      async () => {
        const conn = await createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 1000 });
        try {
          // Another server may hold the port (it won the race for a "free" one): only ours counts.
          const [rows] = await conn.query('SELECT @@pid_file AS pidFile');
          return (rows as { pidFile?: string }[])[0]?.pidFile === join(dir, 'mysqld.pid');
        } finally {
          await conn.end();
        }
      },
      { timeoutMs: 60_000, intervalMs: 100, failed: spawned.exitReason },
    );
  } catch (err) {
    await stop(2000);
    throw err;
  }
  return { pid: spawned.child.pid ?? -1, port, url, dataDir, stop };
}
