/**
 * Turns one outbox row, as the binlog decoder delivers it, into an {@link OutboxEvent}. Pure. The
 * binlog connection must use `dateStrings: true` so that `occurred_at` arrives as the exact text
 * MySQL stored (no time-zone conversion), and BIGINT values arrive as a safe integer Number or an
 * exact decimal string (never a rounded Number).
 */
import { AGGREGATE_TYPE_PATTERN, type OutboxEvent } from '../outbox/event.js';
import { RelayError } from './errors.js';

/** Largest version a signed BIGINT can hold (DESIGN.md: versions are in [1, 2^63-1]). */
const MAX_VERSION = 2n ** 63n - 1n;
const DATETIME_TEXT = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

/**
 * Maps a decoded outbox row (column name → value) to an event. Throws a non-retriable
 * {@link RelayError} (`RELAY_INVALID_ROW`) naming the column when a value cannot be an outbox
 * event; the message never contains the payload.
 */
export function rowToOutboxEvent(row: Readonly<Record<string, unknown>>): OutboxEvent {
  const id = text(row, 'id');
  const aggregateType = text(row, 'aggregatetype');
  if (!AGGREGATE_TYPE_PATTERN.test(aggregateType)) {
    throw invalid(id, `aggregatetype '${aggregateType}' does not match ${AGGREGATE_TYPE_PATTERN.source}`);
  }
  const payload = row.payload;
  if (!Buffer.isBuffer(payload)) throw invalid(id, 'payload is not binary (expected a BLOB column)');
  return {
    id,
    aggregateType,
    aggregateId: text(row, 'aggregateid'),
    type: text(row, 'type'),
    version: version(id, row.version),
    occurredAtMs: occurredAt(id, row.occurred_at),
    payload,
  };
}

function text(row: Readonly<Record<string, unknown>>, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') {
    const id = typeof row.id === 'string' ? row.id : '?';
    throw invalid(id, `column ${column} is ${value === null ? 'NULL' : typeof value}, expected text`);
  }
  return value;
}

function version(id: string, value: unknown): bigint {
  let parsed: bigint | undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value)) parsed = BigInt(value);
  else if (typeof value === 'string' && /^-?\d+$/.test(value)) parsed = BigInt(value);
  else if (typeof value === 'bigint') parsed = value;
  if (parsed === undefined || parsed < 1n || parsed > MAX_VERSION) {
    throw invalid(id, `version ${String(value)} is not an integer in [1, 2^63-1]`);
  }
  return parsed;
}

/** DATETIME text (UTC by contract) to epoch ms; fractions below a millisecond are truncated. */
function occurredAt(id: string, value: unknown): number {
  const match = typeof value === 'string' ? DATETIME_TEXT.exec(value) : null;
  if (!match) throw invalid(id, `occurred_at ${String(value)} is not a DATETIME`);
  const [, y, mo, d, h, mi, s, fraction] = match;
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(s), Number((fraction ?? '').padEnd(3, '0').slice(0, 3)));
  const ms = date.getTime();
  // Out-of-range fields roll over (Feb 30 → Mar 2, hour 24 → next day): refuse them.
  if (!Number.isFinite(ms) || date.getUTCDate() !== Number(d) || date.getUTCMonth() !== Number(mo) - 1 ||
      date.getUTCHours() !== Number(h) || date.getUTCMinutes() !== Number(mi) || date.getUTCSeconds() !== Number(s)) {
    throw invalid(id, `occurred_at ${value as string} is not a valid date`);
  }
  return ms;
}

function invalid(id: string, reason: string): RelayError {
  return new RelayError(`outbox row ${id} cannot be relayed: ${reason}`, { code: 'RELAY_INVALID_ROW' });
}
