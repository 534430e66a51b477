/**
 * Test helper: reads the row events of one table from the test MariaDB's binlog with
 * `mariadb-binlog --read-from-remote-server --verbose`, in binlog (= commit) order, so tests assert
 * what Debezium or the relay will see rather than what the table holds.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Connection, RowDataPacket } from 'mysql2/promise';

const run = promisify(execFile);

/** A place in the binlog. */
export interface BinlogPosition {
  readonly file: string;
  readonly position: number;
}

/** One row change as mariadb-binlog decodes it. */
export interface BinlogRowEvent {
  readonly op: 'INSERT' | 'DELETE' | 'UPDATE';
  readonly database: string;
  readonly table: string;
  /** GTID of the transaction the change belongs to (e.g. `0-1-42`); equal GTIDs: same transaction. */
  readonly gtid: string;
  /** Column values by 1-based position (`@1`...): the after image for INSERT/UPDATE, the before image for DELETE. */
  readonly columns: readonly BinlogValue[];
}

/** A column value: `text` as printed (bytes as latin1, escapes kept), `bytes` with `\xNN` escapes decoded. */
export interface BinlogValue {
  readonly text: string;
  readonly bytes: Buffer;
  readonly quoted: boolean;
}

/** Current end of the binlog (where the next transaction will be written). */
export async function binlogPosition(conn: Connection): Promise<BinlogPosition> {
  const [rows] = await conn.query<RowDataPacket[]>('SHOW MASTER STATUS');
  const row = rows[0];
  if (!row) throw new Error('binary logging is off on the test server');
  return { file: String(row.File), position: Number(row.Position) };
}

/** Row events on `database`.`table` from `from` to the current end of the binlog, in binlog order. */
export async function readBinlogRows(serverUrl: string, from: BinlogPosition, database: string, table: string): Promise<BinlogRowEvent[]> {
  const url = new URL(serverUrl);
  const args = [
    '--read-from-remote-server', `--host=${url.hostname}`, `--port=${url.port || '3306'}`,
    `--user=${decodeURIComponent(url.username || 'root')}`,
    ...(url.password ? [`--password=${decodeURIComponent(url.password)}`] : []),
    '--base64-output=decode-rows', '--verbose', `--start-position=${from.position}`, '--to-last-log', from.file,
  ];
  const { stdout } = await run('mariadb-binlog', args, { encoding: 'latin1', maxBuffer: 512 * 1024 * 1024 });
  return parseBinlogText(stdout).filter((e) => e.database === database && e.table === table);
}

const ROW_HEAD = /^### (INSERT INTO|DELETE FROM|UPDATE) `([^`]+)`\.`([^`]+)`$/;
const COLUMN = /^### {3}@(\d+)=(.*)$/;
const GTID = /\tGTID (\d+-\d+-\d+)/;

/** Parses `mariadb-binlog -v --base64-output=decode-rows` output (read as latin1). */
export function parseBinlogText(text: string): BinlogRowEvent[] {
  const events: BinlogRowEvent[] = [];
  let gtid = '';
  let current: { op: BinlogRowEvent['op']; database: string; table: string; columns: BinlogValue[]; section: string } | undefined;
  const flush = (): void => {
    if (current) events.push({ op: current.op, database: current.database, table: current.table, gtid, columns: current.columns });
    current = undefined;
  };
  for (const line of text.split('\n')) {
    const g = GTID.exec(line);
    if (g?.[1]) gtid = g[1];
    const head = ROW_HEAD.exec(line);
    if (head?.[1] && head[2] && head[3]) {
      flush();
      const op = head[1] === 'INSERT INTO' ? 'INSERT' : head[1] === 'DELETE FROM' ? 'DELETE' : 'UPDATE';
      current = { op, database: head[2], table: head[3], columns: [], section: '' };
      continue;
    }
    if (!current) continue;
    if (line === '### SET' || line === '### WHERE') {
      // An UPDATE prints the before image (WHERE) then the after image (SET); keep the after image.
      if (line === '### SET') current.columns = [];
      current.section = line;
      continue;
    }
    const col = COLUMN.exec(line);
    if (col?.[1] && col[2] !== undefined) {
      current.columns[Number(col[1]) - 1] = parseValue(col[2]);
      continue;
    }
    flush();
  }
  flush();
  return events;
}

/**
 * mariadb-binlog prints strings between single quotes, bytes above 0x1F as they are and bytes
 * up to 0x1F as `\xNN`; quotes and backslashes inside are not escaped, so the value runs to the
 * line's last quote.
 */
function parseValue(raw: string): BinlogValue {
  if (!raw.startsWith("'")) return { text: raw, bytes: Buffer.from(raw, 'latin1'), quoted: false };
  const text = raw.slice(1, raw.lastIndexOf("'"));
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const escape = /^\\x([01][0-9a-f])/.exec(text.slice(i, i + 4));
    if (escape?.[1]) {
      bytes.push(parseInt(escape[1], 16));
      i += 3;
    } else {
      bytes.push(text.charCodeAt(i));
    }
  }
  return { text, bytes: Buffer.from(bytes), quoted: true };
}

/** How mariadb-binlog prints `bytes` (the inverse of the decoding above), for exact comparisons. */
export function binlogText(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) out += b > 0x1f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return out;
}
