/**
 * Groups the binlog stream into committed transactions, in commit order (the binlog's order).
 * Pure: the tail adapter translates the binlog library's events into {@link TailItem}s and feeds
 * them here. Only INSERTs into the outbox table become events; updates and deletes of outbox rows
 * are never fed. A rolled-back transaction yields no event (InnoDB rollbacks never reach the binlog;
 * a logged ROLLBACK discards what was collected), and rows undone by a logged
 * `ROLLBACK TO SAVEPOINT` are dropped.
 *
 * Large transactions: rows are converted to events as they arrive, and a transaction that can
 * only commit (only transactional tables, no savepoint yet) hands its events over in chunks
 * ({@link TransactionAssembler.takeChunk}) before its commit is read, so memory stays bounded
 * whatever its size. The position is still given only with the commit.
 */
import type { OutboxEvent } from '../outbox/event.js';
import { RelayError } from './errors.js';
import { rowToOutboxEvent } from './outbox-row.js';
import type { BinlogPosition } from './position.js';

/** One binlog event, reduced to what transaction grouping needs. */
export type TailItem =
  /** The stream is now in `file` (at connect and at every rotation); `position` where it continues. */
  | { readonly kind: 'rotate'; readonly file: string; readonly position?: number }
  /**
   * A transaction starts (BEGIN, MariaDB's transactional GTID event, XA START). `transactional`
   * false: it may also change non-transactional tables, so a logged ROLLBACK may follow its rows.
   */
  | { readonly kind: 'begin'; readonly transactional?: boolean }
  /** Rows of the relay's own position table are in this transaction. */
  | { readonly kind: 'checkpoint-table' }
  /** Rows inserted into the outbox table. */
  | { readonly kind: 'inserts'; readonly rows: readonly Readonly<Record<string, unknown>>[] }
  /** The transaction committed (XID, COMMIT, XA COMMIT, one-phase XA); `nextPosition` ends it. */
  | { readonly kind: 'commit'; readonly nextPosition: number }
  /** The transaction was logged and then rolled back (non-transactional tables involved). */
  | { readonly kind: 'rollback'; readonly nextPosition: number }
  /** `SAVEPOINT name` inside a transaction. */
  | { readonly kind: 'savepoint'; readonly name: string }
  /** `ROLLBACK TO [SAVEPOINT] name`: the rows since that savepoint are undone. */
  | { readonly kind: 'rollback-to'; readonly name: string }
  /** The server's replication heartbeat: nothing more to send, the binlog ends at `file:position`. */
  | { readonly kind: 'heartbeat'; readonly file: string; readonly position: number }
  /** XA PREPARE: the group commits later under a separate XA COMMIT. */
  | { readonly kind: 'xa-prepare'; readonly nextPosition: number }
  /** Any other statement (DDL, ...); a boundary only outside a transaction. */
  | { readonly kind: 'statement'; readonly nextPosition: number };

/** A transaction as it leaves the assembler, at a resumable position. */
export interface CommittedTransaction {
  /** Outbox events in insertion order not already handed over as chunks. */
  readonly events: readonly OutboxEvent[];
  /** Outbox rows that could not become events (`RELAY_INVALID_ROW`), for the log. */
  readonly invalid: readonly RelayError[];
  /** End of the transaction: resuming here replays nothing of it and loses nothing after it. */
  readonly position: BinlogPosition;
  /** True when the transaction only wrote the relay's position table (its own checkpoint). */
  readonly ownCheckpoint: boolean;
  /**
   * True when it only moves the position (a heartbeat, a rotation, the relay's own checkpoint):
   * worth storing on its own only when it reaches another binlog file.
   */
  readonly quiet?: boolean;
  /** When it was committed (binlog header, epoch ms), or received for a heartbeat. */
  readonly timestampMs?: number;
}

/** Options of {@link TransactionAssembler}. */
export interface AssemblerOptions {
  /** Hand over events of an open transaction in chunks of this many (when it can only commit). Default: never. */
  readonly chunkEvents?: number;
}

/** Stateful grouping of {@link TailItem}s; feed items in stream order. */
export class TransactionAssembler {
  private file: string;
  private inTransaction = false;
  /** Events may be handed over before the commit: only transactional tables, no savepoint so far. */
  private streamable = false;
  private streamed = false;
  private rowsSeen = 0;
  private events: OutboxEvent[] = [];
  private invalid: RelayError[] = [];
  private savepoints: { name: string; events: number; invalid: number }[] = [];
  private touchedCheckpoint = false;
  private readonly chunkEvents: number;

  /** `startFile`: the file the stream starts in (a rotate item confirms or changes it). */
  constructor(startFile: string, options: AssemblerOptions = {}) {
    this.file = startFile;
    this.chunkEvents = options.chunkEvents ?? Infinity;
  }

  /** True inside a transaction (between its first item and its end). */
  get open(): boolean {
    return this.inTransaction;
  }

  /** Feeds one item; returns the transaction it completed (or the position it moved to), if any. */
  feed(item: TailItem): CommittedTransaction | undefined {
    switch (item.kind) {
      case 'rotate':
        this.file = item.file;
        return item.position === undefined ? undefined : this.advance(item.position);
      case 'heartbeat':
        if (item.file !== this.file) return undefined;
        return this.advance(item.position);
      case 'begin':
        this.reset();
        this.inTransaction = true;
        this.streamable = item.transactional !== false;
        return undefined;
      case 'checkpoint-table':
        this.touchedCheckpoint = true;
        return undefined;
      case 'inserts':
        // Rows outside BEGIN..COMMIT (autocommit on a non-transactional table) still end at a commit.
        if (!this.inTransaction) this.streamable = false;
        this.inTransaction = true;
        this.convert(item.rows);
        return undefined;
      case 'savepoint':
        this.streamable = false;
        this.savepoints = this.savepoints.filter((s) => s.name !== item.name);
        this.savepoints.push({ name: item.name, events: this.events.length, invalid: this.invalid.length });
        return undefined;
      case 'rollback-to':
        this.rollbackTo(item.name);
        return undefined;
      case 'commit':
        return this.complete(item.nextPosition, true);
      case 'rollback':
        return this.complete(item.nextPosition, false);
      case 'xa-prepare':
        if (this.rowsSeen > 0) {
          throw new RelayError(
            'an XA transaction (XA PREPARE) wrote outbox rows; the relay does not support XA: write outbox rows in ordinary transactions',
            { code: 'RELAY_XA_UNSUPPORTED' },
          );
        }
        return this.complete(item.nextPosition, false);
      case 'statement':
        return this.inTransaction ? undefined : this.complete(item.nextPosition, false);
    }
  }

  /**
   * Events of the open transaction that may be applied before its commit, `chunkEvents` at a
   * time; undefined while fewer are buffered or the transaction might still be rolled back.
   */
  takeChunk(): OutboxEvent[] | undefined {
    if (!this.inTransaction || !this.streamable || this.events.length < this.chunkEvents) return undefined;
    this.streamed = true;
    return this.events.splice(0, this.chunkEvents);
  }

  /** Forgets a partly received transaction (the stream broke; it will be replayed from a boundary). */
  reset(): void {
    this.inTransaction = false;
    this.streamable = false;
    this.streamed = false;
    this.rowsSeen = 0;
    this.events = [];
    this.invalid = [];
    this.savepoints = [];
    this.touchedCheckpoint = false;
  }

  private convert(rows: readonly Readonly<Record<string, unknown>>[]): void {
    this.rowsSeen += rows.length;
    for (const row of rows) {
      try {
        this.events.push(rowToOutboxEvent(row));
      } catch (err) {
        if (!(err instanceof RelayError)) throw err;
        this.invalid.push(err);
      }
    }
  }

  private rollbackTo(name: string): void {
    const index = this.savepoints.findIndex((s) => s.name === name);
    const mark = this.savepoints[index];
    // A name never logged in this transaction undoes nothing the binlog showed us.
    if (!mark) return;
    this.events.length = mark.events;
    this.invalid.length = mark.invalid;
    this.savepoints.length = index + 1;
  }

  /** A position-only step at a boundary (outside a transaction). */
  private advance(position: number): CommittedTransaction | undefined {
    if (this.inTransaction) return undefined;
    return { events: [], invalid: [], position: { file: this.file, position }, ownCheckpoint: false, quiet: true };
  }

  private complete(nextPosition: number, keep: boolean): CommittedTransaction {
    const invalid = keep ? this.invalid : [];
    if (!keep && this.streamed) {
      invalid.push(new RelayError(
        'a transaction whose first events were already applied was rolled back (it changed non-transactional tables without saying so in the binlog); those events were applied',
        { code: 'RELAY_STREAMED_ROLLBACK' },
      ));
    }
    const events = keep ? this.events : [];
    const ownCheckpoint = this.touchedCheckpoint && this.rowsSeen === 0;
    const quiet = ownCheckpoint;
    this.reset();
    return { events, invalid, position: { file: this.file, position: nextPosition }, ownCheckpoint, quiet };
  }
}
