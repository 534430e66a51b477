import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, freePort, killChild, MissingBinaryError, spawnServer, waitFor, type LocalServer } from './process.js';

/** A Redis server started on loopback with no persistence. */
export interface LocalRedis extends LocalServer {
  readonly port: number;
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
}

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** Start as a cluster node (`cluster-enabled yes`); the caller forms the cluster. */
  readonly clusterEnabled?: boolean;
  readonly port?: number;
  /** More `redis-server` arguments, e.g. `['--enable-protected-configs', 'yes']` for tests that CONFIG SET dir. */
  readonly extraArgs?: readonly string[];
}

/** Sends PING over a raw socket; resolves true on +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(1000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err) => {
      socket.destroy();
      reject(err);
    });
  });
}

/**
 * The pid the Redis on `port` reports (INFO server), so that a server already listening there
 * (another process won the race for a "free" port) is never taken for the one started here.
 */
function serverPid(port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.setTimeout(1000);
    socket.once('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (data) => {
      reply += data.toString();
      const pid = /process_id:(\d+)/.exec(reply)?.[1];
      if (pid || reply.startsWith('-')) {
        socket.destroy();
        resolve(pid === undefined ? undefined : Number(pid));
      }
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (err) => {
      socket.destroy();
      reject(err);
    });
  });
}

/**
 * Starts `redis-server` on 127.0.0.1 and a free port, in a temporary directory. Without a given
 * port, a start that loses its port to another process is retried on a new one (twice at most).
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<LocalRedis> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRedisOnce(options, options.port ?? (await freePort()));
    } catch (err) {
      if (options.port !== undefined || attempt >= 3 || err instanceof MissingBinaryError) throw err;
    }
  }
}

async function startRedisOnce(options: StartRedisOptions, port: number): Promise<LocalRedis> {
  const binary = findBinary('redis-server', 'redis-server');
  const dir = mkdtempSync(join(tmpdir(), 'outbox-cache-redis-'));
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'no',
    '--loglevel', 'warning',
  ];
  args.push(...(options.extraArgs ?? []));
  if (options.clusterEnabled) {
    args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'));
  }
  const spawned = spawnServer(binary, args);
  const stop = async (graceMs?: number): Promise<void> => {
    await killChild(spawned.child, graceMs);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`redis-server on port ${port}`, async () => (await ping(port)) && (await serverPid(port)) === spawned.child.pid, {
      timeoutMs: 15_000,
      failed: spawned.exitReason,
    });
  } catch (err) {
    await stop(1000);
    throw err;
  }
  return { pid: spawned.child.pid ?? -1, port, url: `redis://127.0.0.1:${port}`, stop };
}
