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
 * Runs a command body and reports every failure on `ctx.stderr` as one coded paragraph: a
 * ConfigError exits {@link EXIT.USAGE} listing its problems; any other error exits
 * {@link EXIT.FAILURE} as `outbox-cache <command>: <message> [<code>]`, the code being the
 * project's, or the client's (`ECONNREFUSED`, `ER_ACCESS_DENIED_ERROR`, a kafkajs error name).
 * The stack follows only with `LOG_LEVEL=debug`. URL credentials are masked in every message.
 */
export async function runReporting(
  ctx: Pick<CommandContext, 'stderr'> & { readonly env?: CommandContext['env'] },
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
    ctx.stderr.write(`outbox-cache ${command}: ${describeFailure(err)}\n`);
    if (ctx.env?.LOG_LEVEL === 'debug' && err instanceof Error && err.stack) ctx.stderr.write(`${maskUrlCredentials(err.stack)}\n`);
    return EXIT.FAILURE;
  }
}

/** `<message> [<code>]` of any thrown value, on one line, credentials masked. */
export function describeFailure(err: unknown): string {
  const code = err instanceof OutboxCacheError ? err.code : failureCode(err);
  return `${maskUrlCredentials(failureMessage(err)).replace(/\s*\n\s*/g, ' ')} [${code}]`;
}

function failureCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code !== '') return code;
  return err instanceof Error && err.name !== 'Error' ? err.name : 'UNEXPECTED';
}

function failureMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // Node reports a refused connection to every address of a name as an AggregateError with no message.
  if (err.message === '' && err instanceof AggregateError && err.errors[0] instanceof Error) return err.errors[0].message;
  const cause = err.cause instanceof Error && err.cause.message !== err.message ? `: ${err.cause.message}` : '';
  return `${err.message || err.name}${cause}`;
}
