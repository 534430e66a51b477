/**
 * The logging the relay needs, structurally a subset of pino's `Logger`: pass a pino logger (or a
 * child of one). Fields are structured; no payload bytes or secrets are ever passed.
 */
export interface RelayLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** A logger that drops everything (the default when none is given). */
export const silentLogger: RelayLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
