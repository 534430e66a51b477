/**
 * Error hierarchy. Every error the project raises on purpose is an {@link OutboxCacheError} with a
 * stable `code`, a `retriable` flag and an optional `cause`. Retry loops decide from `retriable`
 * alone (see `src/retry.ts`): a retriable error means "the same call may succeed later"
 * (a server is down, a timeout), a non-retriable one means "this input will never succeed".
 */
export class OutboxCacheError extends Error {
  /** Stable machine-readable code, e.g. `DECODE_BAD_MAGIC`. */
  readonly code: string;
  /** True when retrying the same operation later may succeed. */
  readonly retriable: boolean;

  constructor(message: string, options: { code: string; retriable?: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.retriable = options.retriable ?? false;
  }
}

/** One problem found while validating configuration. */
export interface ConfigProblem {
  /** Setting name as the user wrote it (environment variable or flag). */
  readonly setting: string;
  readonly message: string;
}

/** Invalid configuration; lists every problem found, not only the first. Never retriable. */
export class ConfigError extends OutboxCacheError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    // Any URL a message echoes (a bad SCHEMA_REGISTRY_URL, REDIS_URL, MYSQL_URL...) loses its credentials.
    const masked = problems.map((p) => ({ setting: p.setting, message: maskUrlCredentials(p.message) }));
    super(
      `invalid configuration:\n${masked.map((p) => `  - ${p.setting}: ${p.message}`).join('\n')}`,
      { code: 'CONFIG_INVALID' },
    );
    this.problems = masked;
  }
}

/** Bytes that cannot be decoded (bad framing, truncated, not valid under the writer schema). */
export class DecodeError extends OutboxCacheError {}

/** Schema problems: unknown id, subject mismatch, incompatible change, registry failures. */
export class SchemaError extends OutboxCacheError {}

/** A Redis script call failed (Redis unreachable, script error, unexpected reply). */
export class ScriptError extends OutboxCacheError {}

/** An outbox event was refused before anything was written, or the write failed. */
export class OutboxWriteError extends OutboxCacheError {}

/** A record could be decoded but its mapping to cache actions failed or was refused. */
export class MappingError extends OutboxCacheError {}

/**
 * True when `err` says retrying may succeed. Generic retry loops (see `src/retry.ts`) use it:
 * unknown errors are not retried there. The sink and the relay decide with {@link isPoison}
 * instead, where unknown errors default to retriable.
 */
export function isRetriable(err: unknown): boolean {
  return err instanceof OutboxCacheError && err.retriable;
}

/**
 * Codes of non-retriable errors that belong to one record rather than to a server: its schema id
 * is unknown, under another subject or not usable Avro, or its key holds a foreign Redis type, or
 * it cannot be routed to an aggregate type. With every DecodeError and MappingError, these are
 * the only poison (DESIGN.md §5).
 */
export const RECORD_ERROR_CODES: ReadonlySet<string> = new Set([
  'SCHEMA_UNKNOWN_ID', 'SCHEMA_NOT_FOUND', 'SCHEMA_SUBJECT_MISMATCH', 'SCHEMA_NOT_AVRO', 'SCHEMA_UNRESOLVABLE', 'SCHEMA_INVALID',
  'CACHE_KEY_WRONG_TYPE', 'CACHE_VERSION_INVALID', 'RECORD_UNROUTABLE',
]);

/**
 * True when `err` is a property of the record being applied, so that retrying can never succeed
 * and the record is dead-lettered (sink) or logged and skipped (relay): a non-retriable
 * DecodeError or MappingError, or a non-retriable error whose code is in
 * {@link RECORD_ERROR_CODES}. Everything else (Redis or registry outages, auth and permission
 * refusals, errors this project does not know) pauses and retries: skipping a record must be a
 * decision about the record, never the default.
 */
export function isPoison(err: unknown): err is OutboxCacheError {
  if (!(err instanceof OutboxCacheError) || err.retriable) return false;
  return err instanceof DecodeError || err instanceof MappingError || RECORD_ERROR_CODES.has(err.code);
}

/** Message of any thrown value, for logs and dead-letter headers. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * `text` with the userinfo of every URL in it (`scheme://user:password@host`) replaced by `***`,
 * whatever the scheme: every message that may echo a setting or a client's error goes through it.
 */
export function maskUrlCredentials(text: string): string {
  // Greedy up to the last '@' of the authority: a password may hold an unencoded '@'.
  return text.replace(/\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\s/?#"'`]*@/g, '$1***@');
}
