/**
 * One binlog stream over @vlasky/zongji: connects as a replica from a given position, decodes only
 * the outbox table (and the relay's own position table, to recognise its checkpoints), groups the
 * rows into committed transactions and hands them over in commit order. It does not reconnect:
 * the relay starts a new tail from the last boundary it received when this one fails.
 */
import ZongJi, { type AnyBinlogEvent } from '@vlasky/zongji';
import type { ConnectionOptions } from 'mysql2';
import { errorMessage } from '../errors.js';
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
  /** Receives the error that ended the stream (after which no transaction is delivered). */
  readonly onError: (err: RelayError) => void;
}

const EVENTS = ['rotate', 'query', 'xid', 'xaprepare', 'mariadbgtid', 'tablemap', 'writerows'];

/** A running binlog stream; see the module comment. */
export class BinlogTail {
  private readonly zongji: ZongJi;
  private readonly assembler: TransactionAssembler;
  private paused = false;
  private failed = false;
  private stopped: Promise<void> | undefined;
  /** Last boundary delivered (or the start position): where a replacement tail should start. */
  private last: BinlogPosition;

  private constructor(private readonly options: BinlogTailOptions, from: BinlogPosition) {
    this.last = from;
    // dateStrings: DATETIME values arrive as the stored text, with no time-zone conversion.
    this.zongji = new ZongJi({ ...options.connection, dateStrings: true });
    this.assembler = new TransactionAssembler(from.file);
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
    this.zongji.connection?.resume();
  }

  /** Closes the stream; resolves when both connections are closed. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5_000);
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
      this.zongji.on('ready', () => {
        ready = true;
        resolve();
      });
      this.zongji.on('error', (err: Error) => {
        const wrapped = this.streamError(err);
        if (ready) this.fail(wrapped);
        else {
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
    });
  }

  /** Last boundary delivered (or the start position): where a replacement tail should start. */
  get lastPosition(): BinlogPosition {
    return this.last;
  }

  private onEvent(event: AnyBinlogEvent): void {
    if (this.failed) return;
    try {
      const item = toTailItem(event, this.options);
      const tx = item && this.assembler.feed(item);
      if (tx) {
        this.last = tx.position;
        this.options.onTransaction(tx);
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
    case 'rotate':
      return { kind: 'rotate', file: (event as { binlogName: string }).binlogName };
    case 'mariadbgtid':
      // A standalone group (DDL) has no BEGIN/COMMIT: its statement is the boundary.
      return (event as { standalone: boolean }).standalone ? undefined : { kind: 'begin' };
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

function queryItem(text: string, nextPosition: number): TailItem {
  const statement = text.trim().toUpperCase();
  if (statement === 'BEGIN' || statement.startsWith('XA START') || statement.startsWith('XA BEGIN')) return { kind: 'begin' };
  if (statement === 'COMMIT' || statement.startsWith('XA COMMIT')) return { kind: 'commit', nextPosition };
  if (statement === 'ROLLBACK' || statement.startsWith('XA ROLLBACK')) return { kind: 'rollback', nextPosition };
  return { kind: 'statement', nextPosition };
}
