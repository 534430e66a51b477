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
    super(
      `invalid configuration:\n${problems.map((p) => `  - ${p.setting}: ${p.message}`).join('\n')}`,
      { code: 'CONFIG_INVALID' },
    );
    this.problems = problems;
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

/** True when `err` says retrying may succeed; unknown errors are treated as not retriable. */
export function isRetriable(err: unknown): boolean {
  return err instanceof OutboxCacheError && err.retriable;
}

/** Message of any thrown value, for logs and dead-letter headers. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
