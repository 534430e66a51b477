/**
 * Options and output shared by `outbox-cache connectors apply` and `connectors status`.
 */
import { parseCliArgs } from '../args.js';
import { ConfigError } from '../../errors.js';
import { ConnectRestError, KafkaConnectClient } from '../../connect/rest-client.js';
import { formatFailure, type Failure } from '../../connect/status.js';
import type { CommandContext } from '../command.js';

/** Where Kafka Connect is looked for when neither `--connect-url` nor KAFKA_CONNECT_URL is set. */
export const DEFAULT_CONNECT_URL = 'http://localhost:8083';

/** How long `connectors apply` waits for RUNNING unless `--timeout` says otherwise. */
export const DEFAULT_TIMEOUT = '120s';

/** Parsed command line of a `connectors` command. */
export interface ConnectorsArgs {
  readonly positionals: readonly string[];
  readonly connectUrl: string;
  /** Milliseconds. */
  readonly timeoutMs: number;
  readonly fullTrace: boolean;
  readonly dryRun: boolean;
}

/**
 * Parses `argv`: `--connect-url` and `--full-trace`, plus `--timeout` and `--dry-run` for commands
 * that wait. Throws a ConfigError listing every problem, including a wrong number of positionals.
 */
export function parseConnectorsArgs(
  ctx: CommandContext,
  expected: { positionals: string[]; waits: boolean },
): ConnectorsArgs {
  const { values, positionals, problems } = parseCliArgs(ctx.argv, {
    'connect-url': { type: 'string' },
    'full-trace': { type: 'boolean' },
    timeout: { type: 'string' },
    'dry-run': { type: 'boolean' },
  } as const, true);
  if (!expected.waits) {
    for (const flag of ['timeout', 'dry-run'] as const) {
      if (values[flag] !== undefined) problems.push({ setting: `--${flag}`, message: 'not an option of this command' });
    }
  }
  if (positionals.length !== expected.positionals.length) {
    problems.push({ setting: 'arguments', message: `expected ${expected.positionals.join(' ')}, got ${positionals.length} argument(s)` });
  }
  const connectUrl = values['connect-url'] ?? ctx.env.KAFKA_CONNECT_URL ?? DEFAULT_CONNECT_URL;
  const timeoutMs = parseDuration(values.timeout ?? DEFAULT_TIMEOUT);
  if (timeoutMs === undefined || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) {
    problems.push({ setting: '--timeout', message: `'${values.timeout}' is not a duration from 1ms to 24h (e.g. 90s, 2m, 1500ms)` });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    positionals,
    connectUrl,
    timeoutMs: timeoutMs ?? 0,
    fullTrace: values['full-trace'] ?? false,
    dryRun: values['dry-run'] ?? false,
  };
}

/** Longest `--timeout`: 24 h (timers overflow past 2^31-1 ms, about 24.8 days). */
const MAX_TIMEOUT_MS = 86_400_000;

/** Parses `120`, `120s`, `2m`, `1h`, `1500ms` into milliseconds (no unit: seconds). */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return undefined;
  const factor = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * factor);
}

/** A client for `url`; a malformed URL is a usage error (ConfigError). */
export function connectClient(url: string, signal: AbortSignal): KafkaConnectClient {
  try {
    return new KafkaConnectClient({ url, signal });
  } catch (err) {
    if (err instanceof ConnectRestError) throw new ConfigError([{ setting: '--connect-url / KAFKA_CONNECT_URL', message: err.message }]);
    throw err;
  }
}

/** Writes each failure readably to stderr. */
export function printFailures(ctx: CommandContext, failures: readonly Failure[], fullTrace: boolean): void {
  for (const f of failures) ctx.stderr.write(`${formatFailure(f, fullTrace ? Infinity : 8)}\n`);
}

