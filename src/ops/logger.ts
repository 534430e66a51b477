/** Structured JSON logs (pino). Callers log ids, offsets and error codes, never payload bytes or secrets. */
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Minimum level written. Default `info`. */
  readonly level?: LevelWithSilent;
  /** `name` field of every line, e.g. `outbox-cache-sink`. */
  readonly name?: string;
  /** Where lines go. Default stdout. */
  readonly destination?: DestinationStream;
}

/**
 * Creates a pino logger writing one JSON object per line. Fields that could carry secrets or
 * payloads (`password`, `payload`, `value`, `*.password`) are redacted defensively.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      redact: { paths: ['password', '*.password', 'payload', '*.payload', 'value', '*.value'], censor: '[redacted]' },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
