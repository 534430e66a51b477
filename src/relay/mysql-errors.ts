import { errorMessage } from '../errors.js';
import { RelayError } from './errors.js';

/** Server error numbers that mean "try again later": connection lost, shutdown, lock timeouts. */
const TRANSIENT_ERRNOS = new Set([
  1040, // too many connections
  1053, // server shutdown in progress
  1203, // too many connections for this user
  1205, // lock wait timeout
  1213, // deadlock
  1317, // query interrupted
  1927, // MariaDB: connection killed
  2002, 2003, 2006, 2013, // cannot connect / server gone / lost connection
]);

/** Client-side codes (Node and mysql2) of a broken or refused connection. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH',
  'EAI_AGAIN', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ERR_STREAM_WRITE_AFTER_END',
]);

/** True when a mysql2 (or socket) error is an outage that may pass, not a refusal that will not. */
export function isTransientMysqlError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, errno, fatal } = err as { code?: unknown; errno?: unknown; fatal?: unknown };
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  if (typeof errno === 'number' && TRANSIENT_ERRNOS.has(errno)) return true;
  // mysql2 marks errors that closed the connection as fatal; a server refusal has an SQL state.
  return fatal === true && (err as { sqlState?: unknown }).sqlState === undefined;
}

/** Wraps a MySQL error from `what` as a {@link RelayError}, retriable when it is an outage. */
export function relayMysqlError(what: string, err: unknown): RelayError {
  if (err instanceof RelayError) return err;
  const retriable = isTransientMysqlError(err);
  return new RelayError(`${what}: ${errorMessage(err)}`, {
    code: retriable ? 'RELAY_MYSQL_UNAVAILABLE' : 'RELAY_MYSQL_ERROR',
    retriable,
    cause: err,
  });
}
