/**
 * Groups the binlog stream into committed transactions, in commit order (the binlog's order).
 * Pure: the tail adapter translates the binlog library's events into {@link TailItem}s and feeds
 * them here. Only INSERTs into the outbox table become events; updates and deletes of outbox rows
 * are never fed. A rolled-back transaction yields no event (InnoDB rollbacks never reach the binlog;
 * a logged ROLLBACK discards what was collected).
 */
import type { OutboxEvent } from '../outbox/event.js';
import { RelayError } from './errors.js';
import { rowToOutboxEvent } from './outbox-row.js';
import type { BinlogPosition } from './position.js';

/** One binlog event, reduced to what transaction grouping needs. */
export type TailItem =
  /** The stream is now in `file` (sent at connect and at every binlog rotation). */
  | { readonly kind: 'rotate'; readonly file: string }
  /** A transaction starts (BEGIN, MariaDB's transactional GTID event, XA START). */
  | { readonly kind: 'begin' }
  /** Rows of the relay's own position table are in this transaction. */
  | { readonly kind: 'checkpoint-table' }
  /** Rows inserted into the outbox table. */
  | { readonly kind: 'inserts'; readonly rows: readonly Readonly<Record<string, unknown>>[] }
  /** The transaction committed (XID, COMMIT, XA COMMIT, one-phase XA); `nextPosition` ends it. */
  | { readonly kind: 'commit'; readonly nextPosition: number }
  /** The transaction was logged and then rolled back (non-transactional tables involved). */
  | { readonly kind: 'rollback'; readonly nextPosition: number }
  /** XA PREPARE: the group commits later under a separate XA COMMIT. */
  | { readonly kind: 'xa-prepare'; readonly nextPosition: number }
  /** Any other statement (DDL, SAVEPOINT, ...); a boundary only outside a transaction. */
  | { readonly kind: 'statement'; readonly nextPosition: number };

/** A transaction as it leaves the assembler, at a resumable position. */
export interface CommittedTransaction {
  /** Outbox events in insertion order (the order of the binlog row images). */
  readonly events: readonly OutboxEvent[];
  /** Outbox rows that could not become events (`RELAY_INVALID_ROW`), for the log. */
  readonly invalid: readonly RelayError[];
  /** End of the transaction: resuming here replays nothing of it and loses nothing after it. */
  readonly position: BinlogPosition;
  /** True when the transaction only wrote the relay's position table (its own checkpoint). */
  readonly ownCheckpoint: boolean;
}

/** Stateful grouping of {@link TailItem}s; feed items in stream order. */
export class TransactionAssembler {
  private file: string;
  private inTransaction = false;
  private rows: Readonly<Record<string, unknown>>[] = [];
  private touchedCheckpoint = false;

  /** `startFile`: the file the stream starts in (a rotate item confirms or changes it). */
  constructor(startFile: string) {
    this.file = startFile;
  }

  /** Feeds one item; returns the transaction it completed, if any. */
  feed(item: TailItem): CommittedTransaction | undefined {
    switch (item.kind) {
      case 'rotate':
        this.file = item.file;
        return undefined;
      case 'begin':
        this.reset();
        this.inTransaction = true;
        return undefined;
      case 'checkpoint-table':
        this.touchedCheckpoint = true;
        return undefined;
      case 'inserts':
        // Rows outside BEGIN..COMMIT (autocommit on a non-transactional table) still end at a commit.
        this.inTransaction = true;
        this.rows.push(...item.rows);
        return undefined;
      case 'commit':
        return this.complete(item.nextPosition, true);
      case 'rollback':
        return this.complete(item.nextPosition, false);
      case 'xa-prepare':
        if (this.rows.length > 0) {
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

  /** Forgets a partly received transaction (the stream broke; it will be replayed from a boundary). */
  reset(): void {
    this.inTransaction = false;
    this.rows = [];
    this.touchedCheckpoint = false;
  }

  private complete(nextPosition: number, keepRows: boolean): CommittedTransaction {
    const events: OutboxEvent[] = [];
    const invalid: RelayError[] = [];
    for (const row of keepRows ? this.rows : []) {
      try {
        events.push(rowToOutboxEvent(row));
      } catch (err) {
        if (!(err instanceof RelayError)) throw err;
        invalid.push(err);
      }
    }
    const ownCheckpoint = this.touchedCheckpoint && this.rows.length === 0;
    this.reset();
    return { events, invalid, position: { file: this.file, position: nextPosition }, ownCheckpoint };
  }
}
