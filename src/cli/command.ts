import type { Writable } from 'node:stream';
import { ConfigError, OutboxCacheError, maskUrlCredentials } from '../errors.js';

/** What a CLI command receives: its own arguments, the environment and output streams. */
export interface CommandContext {
  /** Arguments after the command's name (e.g. after `schemas check`). */
  readonly argv: readonly string[];
  /** The process environment (only the CLI and the config module read it). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Aborted on SIGINT/SIGTERM; long-running commands stop cleanly when it fires. */
  readonly signal: AbortSignal;
}

/** A CLI command. `path` is its words, e.g. `['schemas', 'check']`. Resolves to the exit code. */
export interface Command {
  readonly path: readonly string[];
  /** One line for `outbox-cache --help`. */
  readonly summary: string;
  /** Full usage text for `outbox-cache <command> --help`. */
  readonly usage: string;
  run(ctx: CommandContext): Promise<number>;
}

/** Exit codes shared by every command. */
export const EXIT = {
  OK: 0,
  /** The command ran and found a failure (e.g. an incompatible schema). */
  FAILURE: 1,
  /** Bad configuration or usage: nothing was done. */
  USAGE: 2,
} as const;

/**
 * Runs a command body and reports the project's own errors readably on `ctx.stderr`: a
 * ConfigError exits {@link EXIT.USAGE}, any other OutboxCacheError {@link EXIT.FAILURE} with its
 * code. Anything else is rethrown (a bug: the caller prints its stack).
 */
export async function runReporting(
  ctx: Pick<CommandContext, 'stderr'>,
  command: string,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof ConfigError) {
      ctx.stderr.write(`outbox-cache ${command}: ${err.message}\n`);
      return EXIT.USAGE;
    }
    if (err instanceof OutboxCacheError) {
      ctx.stderr.write(`outbox-cache ${command}: ${maskUrlCredentials(err.message)} [${err.code}]\n`);
      return EXIT.FAILURE;
    }
    throw err;
  }
}
