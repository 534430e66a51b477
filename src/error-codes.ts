/**
 * The `code` of every error the application-facing calls raise, in one place so applications can
 * switch on them and operators can search for them. Kept true by test/package/error-codes.test.ts,
 * which reads the codes the outbox and cache sources raise. Other parts list theirs beside their
 * code (`CODEC_ERROR_CODES` in `outbox-cache/codec`, `RelayError` in `outbox-cache/relay`).
 */

/**
 * Codes of {@link OutboxWriteError} (and its subclass `InvalidOutboxEventError`, code
 * `OUTBOX_INVALID_EVENT`). Retriable: `OUTBOX_WRITE_FAILED`, `OUTBOX_COMMIT_FAILED` and
 * `OUTBOX_PURGE_FAILED` when the database error is transient (deadlock, lock wait timeout, lost
 * connection), as `retriable` says; all others are final answers about the call.
 */
export const OUTBOX_ERROR_CODES = [
  'OUTBOX_INVALID_EVENT',
  'OUTBOX_INVALID_OPTION',
  'OUTBOX_INVALID_TABLE',
  'OUTBOX_NOT_IN_TRANSACTION',
  'OUTBOX_ALREADY_IN_TRANSACTION',
  'OUTBOX_TRANSACTION_ESCAPE',
  'OUTBOX_WRITE_FAILED',
  'OUTBOX_COMMIT_FAILED',
  'OUTBOX_VERSION_SQL',
  'OUTBOX_VERSION_ROW_NOT_FOUND',
  'OUTBOX_VERSION_AMBIGUOUS',
  'OUTBOX_TABLE_MISMATCH',
  'OUTBOX_PURGE_IN_TRANSACTION',
  'OUTBOX_PURGE_FAILED',
] as const;

/** One of {@link OUTBOX_ERROR_CODES}. */
export type OutboxErrorCode = (typeof OUTBOX_ERROR_CODES)[number];

/**
 * Codes of the cache's errors (`ScriptError`, `ReadError` and the base class):
 * - `REDIS_UNAVAILABLE` (retriable): Redis did not answer in time or the connection is down;
 * - `REDIS_REFUSED` (retriable): Redis answered with an error about itself, not the key (MISCONF,
 *   NOAUTH, NOPERM, OOM, READONLY, …, or a reply nobody knows): the call may succeed once fixed;
 * - `REDIS_REPLY_INVALID` (retriable): a script answered something the caller cannot read;
 * - `CACHE_KEY_WRONG_TYPE`: the key holds another Redis type (the only key-specific refusal);
 * - `CACHE_VERSION_INVALID`: a stored or given version is not a canonical decimal in range;
 * - `READ_LOADER_INVALID`: the read path's loader returned something that is not a value and a
 *   canonical version (the message names the loader);
 * - `READ_LOAD_TIMEOUT` (retriable): the loader did not settle within `loadTimeoutMs`;
 * - `READ_OPTIONS_INVALID`: a read's options are invalid (e.g. a negative `allowStaleMs`);
 * - `READ_VALUE_UNENCODABLE`: a loaded value the codec cannot encode (reported through
 *   `onFillError`; the read still returns the value).
 * Bad options raise `ConfigError` (`CONFIG_INVALID`).
 */
export const CACHE_ERROR_CODES = [
  'REDIS_UNAVAILABLE',
  'REDIS_REFUSED',
  'REDIS_REPLY_INVALID',
  'CACHE_KEY_WRONG_TYPE',
  'CACHE_VERSION_INVALID',
  'READ_LOADER_INVALID',
  'READ_LOAD_TIMEOUT',
  'READ_OPTIONS_INVALID',
  'READ_VALUE_UNENCODABLE',
] as const;

/** One of {@link CACHE_ERROR_CODES}. */
export type CacheErrorCode = (typeof CACHE_ERROR_CODES)[number];

/** Code of every {@link ConfigError}; its `problems` list each bad setting. */
export const CONFIG_ERROR_CODE = 'CONFIG_INVALID';
