/**
 * The one-relay-per-name lock: a MySQL named lock (`GET_LOCK`) held on a connection of its own,
 * outside the pool, so no idle-pool reaping, `wait_timeout` or reuse can drop it unseen. The
 * connection is checked every `checkIntervalMs` (`IS_USED_LOCK(name) = CONNECTION_ID()`, with a
 * deadline) and watched for its close. When the lock is lost it is retaken on a new connection
 * before the relay applies or stores anything more; if another session holds it by then, the
 * relay stops with `RELAY_LOCK_LOST`, so two relays of one name never stream side by side. A path
 * that froze leaves the old session alive on the server, still holding the lock: when the holder
 * is that session of ours, the retake kills it (a user may kill its own sessions) and takes over.
 */
import { createHash } from 'node:crypto';
import { createConnection, type ConnectionOptions } from 'mysql2';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { errorMessage } from '../errors.js';
import { retry, type RetryOptions } from '../retry.js';
import { RelayError } from './errors.js';
import type { RelayLogger } from './logger.js';
import { isTransientMysqlError, relayMysqlError } from './mysql-errors.js';

/** Options of {@link RelayLockKeeper.acquire}; durations in milliseconds. */
export interface RelayLockOptions {
  /** mysql2 options of the server (a `uri` works too); the lock gets a connection of its own. */
  readonly connection: ConnectionOptions;
  readonly database: string;
  readonly relayName: string;
  /** How often the lock is verified. Default 5,000. */
  readonly checkIntervalMs?: number;
  /** Deadline of each lock query. Default 5,000. */
  readonly queryTimeoutMs?: number;
  /** Backoff while the server is unreachable during a retake. */
  readonly retryDelays?: Pick<RetryOptions, 'initialDelayMs' | 'maxDelayMs'>;
  /** Called once when the lock is lost for good (another session took it). */
  readonly onLost: (err: RelayError) => void;
  readonly logger: RelayLogger;
  /** Ends retakes (the relay is stopping). */
  readonly signal: AbortSignal;
}

/** The lock name of a relay: user lock names are limited to 64 characters, so database and name are hashed. */
export function relayLockName(database: string, relayName: string): string {
  const digest = createHash('sha256').update(`${database}\0${relayName}`).digest('hex').slice(0, 40);
  return `outbox-cache-relay:${digest}`;
}

/** A held relay lock; see the module comment. */
export class RelayLockKeeper {
  private conn: Connection | undefined;
  private timer: NodeJS.Timeout | undefined;
  private retaking: Promise<void> | undefined;
  private lostError: RelayError | undefined;
  /** Server session id of the last connection that held the lock. */
  private sessionId: number | undefined;
  private released = false;
  /** Times the lock was retaken after its connection was lost. */
  retakes = 0;

  private constructor(private readonly options: RelayLockOptions, private readonly name: string) {}

  /** Takes the lock; throws `RELAY_ALREADY_RUNNING` when another session holds it. */
  static async acquire(options: RelayLockOptions): Promise<RelayLockKeeper> {
    const keeper = new RelayLockKeeper(options, relayLockName(options.database, options.relayName));
    await keeper.take();
    keeper.timer = setInterval(() => void keeper.check(), options.checkIntervalMs ?? 5_000);
    keeper.timer.unref();
    return keeper;
  }

  /** True while the lock is being retaken (the relay applies nothing meanwhile). */
  get retakingNow(): boolean {
    return this.retaking !== undefined;
  }

  /** Resolves while the lock is held (waiting for a retake in progress); rejects with `RELAY_LOCK_LOST`. */
  async ensure(): Promise<void> {
    await this.retaking;
    if (this.lostError) throw this.lostError;
  }

  /** Releases the lock and closes its connection (bounded by the query deadline). Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    const conn = this.conn;
    this.conn = undefined;
    if (!conn) return;
    // Raced, not only mysql2's query timeout: a query queued behind a stuck check never starts its timer.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      conn.query('SELECT RELEASE_LOCK(?)', [this.name]).catch(() => {}),
      new Promise((resolve) => (timer = setTimeout(resolve, Math.min(this.timeoutMs(), 1_000)))),
    ]);
    clearTimeout(timer);
    // The lock dies with its connection in any case.
    conn.destroy();
  }

  private timeoutMs(): number {
    return this.options.queryTimeoutMs ?? 5_000;
  }

  private async take(previousSession?: number): Promise<void> {
    const { connection, relayName, database } = this.options;
    let conn: Connection | undefined;
    try {
      conn = await connect({ connectTimeout: this.timeoutMs(), ...connection });
      const timeout = this.timeoutMs();
      const [rows] = await conn.query<RowDataPacket[]>({ sql: 'SELECT GET_LOCK(?, 0) AS got, CONNECTION_ID() AS session', timeout }, [this.name]);
      let got = Number(rows[0]?.got) === 1;
      if (!got && previousSession !== undefined) {
        const [holders] = await conn.query<RowDataPacket[]>({ sql: 'SELECT IS_USED_LOCK(?) AS holder', timeout }, [this.name]);
        if (Number(holders[0]?.holder) === previousSession) {
          await conn.query({ sql: `KILL ${previousSession}`, timeout }).catch(() => {});
          const [again] = await conn.query<RowDataPacket[]>({ sql: 'SELECT GET_LOCK(?, 2) AS got', timeout }, [this.name]);
          got = Number(again[0]?.got) === 1;
        }
      }
      this.sessionId = Number(rows[0]?.session);
      if (!got) {
        throw new RelayError(
          `relay '${relayName}' is already running against database '${database}' (lock ${this.name} is held); stop it first or choose another relay name`,
          { code: 'RELAY_ALREADY_RUNNING' },
        );
      }
    } catch (err) {
      conn?.destroy();
      throw relayMysqlError(`locking relay '${relayName}'`, err);
    }
    const watched = conn;
    // The callback API's events: a killed session or a dropped socket ends the connection at once.
    const raw = (watched as unknown as { connection: { on(event: string, fn: (err?: unknown) => void): void } }).connection;
    raw.on('error', () => this.lost(watched, 'connection error'));
    raw.on('end', () => this.lost(watched, 'connection closed'));
    this.conn = watched;
  }

  private async check(): Promise<void> {
    const conn = this.conn;
    if (!conn || this.retaking || this.released) return;
    try {
      const [rows] = await conn.query<RowDataPacket[]>(
        { sql: 'SELECT IS_USED_LOCK(?) = CONNECTION_ID() AS mine', timeout: this.timeoutMs() }, [this.name]);
      if (Number(rows[0]?.mine) !== 1) this.lost(conn, 'the server no longer lists this session as the lock holder');
    } catch (err) {
      this.lost(conn, errorMessage(err));
    }
  }

  private lost(conn: Connection, reason: string): void {
    if (conn !== this.conn || this.released || this.retaking) return;
    this.conn = undefined;
    conn.destroy();
    this.options.logger.warn({ relay: this.options.relayName, reason }, 'relay lock connection lost; retaking the lock before applying more');
    this.retaking = this.retake().finally(() => (this.retaking = undefined));
  }

  private async retake(): Promise<void> {
    const { logger, relayName, signal } = this.options;
    try {
      const previous = this.sessionId;
      await retry(() => this.take(previous), {
        ...this.options.retryDelays,
        signal,
        shouldRetry: (err) => err instanceof RelayError && err.code !== 'RELAY_ALREADY_RUNNING' && (err.retriable || isTransientMysqlError(err.cause)),
      });
      this.retakes += 1;
      logger.info({ relay: relayName }, 'relay lock retaken');
    } catch (err) {
      if (this.released || signal.aborted) return;
      this.lostError = new RelayError(
        `relay '${relayName}' lost its lock (${this.name}) and could not retake it: ${errorMessage(err)}. Another relay with the same name may be running; this one stops so that only one streams.`,
        { code: 'RELAY_LOCK_LOST', cause: err },
      );
      this.options.onLost(this.lostError);
    }
  }
}

function connect(options: ConnectionOptions): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(options);
    conn.once('error', reject);
    conn.connect((err) => {
      if (err) reject(err);
      else {
        conn.removeListener('error', reject);
        resolve(conn.promise());
      }
    });
  });
}
