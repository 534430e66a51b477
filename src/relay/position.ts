/**
 * A point in the server's binary log: a file name and a byte offset in it. The relay only ever
 * stores offsets at a transaction boundary (the end of a committed transaction, or of a statement
 * outside any transaction), so resuming there replays whole transactions and never half of one.
 * Offsets are not portable: they name bytes of one server's files, not of its replicas'.
 */
export interface BinlogPosition {
  /** Binlog file name as `SHOW BINARY LOGS` lists it, e.g. `binlog.000042`. */
  readonly file: string;
  /** Byte offset in `file`; 4 is the first event after the file header. */
  readonly position: number;
}

/** `file:position`, the form the CLI accepts and the logs print. */
export function formatPosition(p: BinlogPosition): string {
  return `${p.file}:${p.position}`;
}

/**
 * Parses `file:position` (the position a non-negative integer ≥ 4). Returns undefined for
 * anything else, so the caller can report it with the setting's name.
 */
export function parsePosition(text: string): BinlogPosition | undefined {
  const match = /^(.+):(\d{1,15})$/.exec(text.trim());
  if (!match?.[1] || !match[2]) return undefined;
  const position = Number(match[2]);
  return position >= 4 ? { file: match[1], position } : undefined;
}

/** True when both name the same byte of the same file. */
export function samePosition(a: BinlogPosition, b: BinlogPosition): boolean {
  return a.file === b.file && a.position === b.position;
}
