/**
 * One binlog stream over @vlasky/zongji: connects as a replica from a given position, decodes only
 * the outbox table (and the relay's own position table, to recognise its checkpoints), groups the
 * rows into committed transactions and hands them over in commit order. It does not reconnect:
 * the relay starts a new tail from the last boundary it received when this one fails.
 *
 * A TCP path can die without closing (a NAT or firewall forgetting the flow): the tail asks the
 * server for replication heartbeats (`@master_heartbeat_period`, the session variable MySQL and
 * MariaDB replicas set before COM_BINLOG_DUMP) and fails as retriable when nothing at all arrived
 * for `silenceMs` while it was reading.
 */
import { basename } from 'node:path';
import ZongJi, { type AnyBinlogEvent } from '@vlasky/zongji';
import type { ConnectionOptions } from 'mysql2';
import { errorMessage } from '../errors.js';
import type { OutboxEvent } from '../outbox/event.js';
import { RelayError } from './errors.js';
import { isTransientMysqlError } from './mysql-errors.js';
import { formatPosition, type BinlogPosition } from './position.js';
import { TransactionAssembler, type CommittedTransaction, type TailItem } from './transaction-assembler.js';

/** What a {@link BinlogTail} reads and where its transactions go. */
export interface BinlogTailOptions {
  /** mysql2 connection options of the replication user (a `uri` works too). */
  readonly connection: ConnectionOptions;
  /** Replica server id of this stream; unique among the server's replicas. */
  readonly serverId: number;
  readonly database: string;
  readonly table: string;
  /** The relay's position table, in `database`. */
  readonly positionTable: string;
  /** Receives each committed transaction, in commit order, synchronously. */
  readonly onTransaction: (tx: CommittedTransaction) => void;
  /** Receives chunks of a large transaction before its commit (see the assembler). */
  readonly onChunk?: (events: readonly OutboxEvent[]) => void;
  /** Events per chunk of a large transaction. Default: never chunk. */
  readonly chunkEvents?: number;
  /** Heartbeat period asked of the server, ms (0: none). Default 5,000. */
  readonly heartbeatMs?: number;
  /** Silence (no bytes at all) after which the stream counts as lost, ms. Default 3 heartbeats + 1 s. */
  readonly silenceMs?: number;
  /** Deadline of connecting and starting the dump, ms. Default 15,000. */
  readonly openTimeoutMs?: number;
  /** Receives the error that ended the stream (after which no transaction is delivered). */
  readonly onError: (err: RelayError) => void;
}

const EVENTS = ['rotate', 'query', 'xid', 'xaprepare', 'mariadbgtid', 'tablemap', 'writerows', 'heartbeat'];
const DEFAULT_HEARTBEAT_MS = 5_000;

/** A running binlog stream; see the module comment. */
export class BinlogTail {
  private readonly zongji: ZongJi;
  private readonly assembler: TransactionAssembler;
  private paused = false;
  private failed = false;
  private stopped: Promise<void> | undefined;
  /** Last boundary delivered (or the start position): where a replacement tail should start. */
  private last: BinlogPosition;
  private lastTraffic = Date.now();
  /** False when the server refused the heartbeat period (the silence check is then off). */
  private heartbeats = true;
  private watchdog: NodeJS.Timeout | undefined;

  private constructor(private readonly options: BinlogTailOptions, from: BinlogPosition) {
    this.last = from;
    // dateStrings: DATETIME values arrive as the stored text, with no time-zone conversion.
    this.zongji = new ZongJi({ ...options.connection, dateStrings: true });
    this.assembler = new TransactionAssembler(from.file, { chunkEvents: options.chunkEvents });
  }

  /**
   * Connects and starts streaming at `from` (a transaction boundary). Resolves once the server
   * accepted the replica; rejects if connecting failed.
   */
  static async start(options: BinlogTailOptions, from: BinlogPosition): Promise<BinlogTail> {
    const tail = new BinlogTail(options, from);
    await tail.open(from);
    return tail;
  }

  /** Stops reading from the socket (at a transaction boundary) until {@link resume}. */
  pause(): void {
    if (this.paused || !this.zongji.connection) return;
    this.paused = true;
    this.zongji.connection.pause();
  }

  /** Resumes after {@link pause}; a no-op otherwise (never undoes the library's own pauses). */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.lastTraffic = Date.now();
    this.zongji.connection?.resume();
  }

  /** Closes the stream; resolves when both connections are closed (or after 2 s if they hang). Idempotent. */
  stop(): Promise<void> {
    clearInterval(this.watchdog);
    this.stopped ??= new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2_000);
      this.zongji.once('stopped', () => {
        clearTimeout(timer);
        resolve();
      });
      this.zongji.stop();
    });
    return this.stopped;
  }

  private open(from: BinlogPosition): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      const openTimer = setTimeout(() => {
        void this.stop();
        reject(this.streamError(Object.assign(new Error(`no binlog stream within ${this.options.openTimeoutMs ?? 15_000} ms`), { code: 'ETIMEDOUT' })));
      }, this.options.openTimeoutMs ?? 15_000);
      this.zongji.on('ready', () => {
        ready = true;
        clearTimeout(openTimer);
        this.lastTraffic = Date.now();
        this.startWatchdog();
        resolve();
      });
      this.zongji.on('error', (err: Error) => {
        const wrapped = this.streamError(err);
        if (ready) this.fail(wrapped);
        else {
          clearTimeout(openTimer);
          void this.stop();
          reject(wrapped);
        }
      });
      this.zongji.on('binlog', (event: AnyBinlogEvent) => this.onEvent(event));
      this.zongji.start({
        serverId: this.options.serverId,
        filename: from.file,
        position: from.position,
        includeEvents: EVENTS,
        includeSchema: { [this.options.database]: [this.options.table, this.options.positionTable] },
      });
      this.askForHeartbeats();
    });
  }

  /**
   * zongji opens its binlog connection synchronously in start() and queues its own preamble and
   * the dump command behind anything queued now, so this SET runs before COM_BINLOG_DUMP.
   */
  private askForHeartbeats(): void {
    const connection = this.zongji.connection as unknown as
      | { query(sql: string, cb: (err: Error | null) => void): void; stream?: { on(event: 'data', fn: () => void): void } }
      | null;
    if (!connection) return;
    connection.stream?.on('data', () => void (this.lastTraffic = Date.now()));
    const periodMs = this.heartbeatMs();
    if (periodMs <= 0) return;
    // Nanoseconds. A server that refuses it sends no heartbeats: silence then proves nothing.
    connection.query(`SET @master_heartbeat_period = ${BigInt(periodMs) * 1_000_000n}`, (err) => {
      if (err) this.heartbeats = false;
    });
  }

  private heartbeatMs(): number {
    return this.options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  }

  private startWatchdog(): void {
    const periodMs = this.heartbeatMs();
    if (periodMs <= 0) return;
    const silenceMs = this.options.silenceMs ?? 3 * periodMs + 1_000;
    this.watchdog = setInterval(() => {
      // Paused by the relay (back-pressure): silence is ours, not the network's.
      if (this.paused || this.failed || !this.heartbeats || Date.now() - this.lastTraffic <= silenceMs) return;
      this.fail(new RelayError(
        `binlog stream after ${formatPosition(this.lastPosition)} silent for ${Date.now() - this.lastTraffic} ms (heartbeat every ${periodMs} ms): connection presumed lost`,
        { code: 'RELAY_BINLOG_SILENT', retriable: true },
      ));
    }, Math.max(50, Math.min(1_000, periodMs / 2)));
    this.watchdog.unref();
  }

  /** Last boundary delivered (or the start position): where a replacement tail should start. */
  get lastPosition(): BinlogPosition {
    return this.last;
  }

  private onEvent(event: AnyBinlogEvent): void {
    if (this.failed) return;
    try {
      const item = toTailItem(event, this.options);
      if (!item) return;
      const tx = this.assembler.feed(item);
      for (let chunk = this.assembler.takeChunk(); chunk; chunk = this.assembler.takeChunk()) this.options.onChunk?.(chunk);
      if (tx) {
        this.last = tx.position;
        this.options.onTransaction({ ...tx, timestampMs: item.kind === 'heartbeat' ? Date.now() : event.timestamp });
      }
    } catch (err) {
      this.fail(err instanceof RelayError ? err : new RelayError(`binlog event handling failed: ${errorMessage(err)}`,
        { code: 'RELAY_BINLOG_EVENT', cause: err }));
    }
  }

  private fail(err: RelayError): void {
    if (this.failed) return;
    this.failed = true;
    void this.stop();
    this.options.onError(err);
  }

  private streamError(err: Error): RelayError {
    const retriable = isTransientMysqlError(err);
    return new RelayError(`binlog stream after ${formatPosition(this.lastPosition)} failed: ${err.message}`, {
      code: retriable ? 'RELAY_BINLOG_UNAVAILABLE' : 'RELAY_BINLOG_ERROR',
      retriable,
      cause: err,
    });
  }
}

/** Reduces a zongji event to what grouping needs; undefined for events that do not matter. */
export function toTailItem(event: AnyBinlogEvent, names: { readonly table: string; readonly positionTable: string }): TailItem | undefined {
  switch (event.getEventName()) {
    case 'rotate': {
      const rotate = event as { binlogName: string; position: number | string };
      return { kind: 'rotate', file: rotate.binlogName, position: Number(rotate.position) };
    }
    case 'heartbeat': {
      const heartbeat = event as { binlogName: string; position?: number | string };
      const position = heartbeat.position !== undefined ? Number(heartbeat.position) : event.nextPosition;
      return position >= 4 ? { kind: 'heartbeat', file: basename(heartbeat.binlogName), position } : undefined;
    }
    case 'mariadbgtid': {
      // A standalone group (DDL) has no BEGIN/COMMIT: its statement is the boundary.
      const gtid = event as { standalone: boolean; transactional: boolean };
      return gtid.standalone ? undefined : { kind: 'begin', transactional: gtid.transactional };
    }
    case 'xid':
      return { kind: 'commit', nextPosition: event.nextPosition };
    case 'xaprepare':
      return (event as { onePhase: boolean }).onePhase
        ? { kind: 'commit', nextPosition: event.nextPosition }
        : { kind: 'xa-prepare', nextPosition: event.nextPosition };
    case 'query':
      return queryItem((event as { query: string }).query, event.nextPosition);
    case 'tablemap':
      return (event as { tableName: string }).tableName === names.positionTable ? { kind: 'checkpoint-table' } : undefined;
    case 'writerows': {
      const rows = event as unknown as { tableId: number; tableMap: Record<number, { tableName: string }>; rows: Record<string, unknown>[] };
      return rows.tableMap[rows.tableId]?.tableName === names.table ? { kind: 'inserts', rows: rows.rows } : undefined;
    }
    default:
      return undefined;
  }
}

const SAVEPOINT = /^SAVEPOINT\s+(.+)$/i;
const ROLLBACK_TO = /^ROLLBACK\s+(?:WORK\s+)?TO\s+(?:SAVEPOINT\s+)?(.+)$/i;

/** A savepoint name as the server logs it (backquoted or bare); savepoint names ignore case. */
function savepointName(text: string): string {
  const name = text.trim();
  const unquoted = name.startsWith('`') && name.endsWith('`') ? name.slice(1, -1).replaceAll('``', '`') : name;
  return unquoted.toLowerCase();
}

function queryItem(text: string, nextPosition: number): TailItem {
  const trimmed = text.trim();
  const savepoint = SAVEPOINT.exec(trimmed);
  if (savepoint?.[1]) return { kind: 'savepoint', name: savepointName(savepoint[1]) };
  const rollbackTo = ROLLBACK_TO.exec(trimmed);
  if (rollbackTo?.[1]) return { kind: 'rollback-to', name: savepointName(rollbackTo[1]) };
  const statement = trimmed.toUpperCase();
  if (statement === 'BEGIN' || statement.startsWith('XA START') || statement.startsWith('XA BEGIN')) return { kind: 'begin' };
  if (statement === 'COMMIT' || statement.startsWith('XA COMMIT')) return { kind: 'commit', nextPosition };
  if (statement === 'ROLLBACK' || statement.startsWith('XA ROLLBACK')) return { kind: 'rollback', nextPosition };
  return { kind: 'statement', nextPosition };
}
