/**
 * What the day-2 commands (backfill, rebuild, flush, inspect, dlq) share: positional arguments
 * before the options, settings parsed with every problem reported at once, clients from the
 * settings, and a progress bar on a terminal (cli-progress; nothing when stderr is not a TTY).
 */
import cliProgress from 'cli-progress';
import { Kafka } from 'kafkajs';
import type { Cluster, Redis } from 'ioredis';
import { parseSettingsWith, type Setting, type SettingsValue } from '../../config/settings.js';
import { kafkaSecurityProblems, redisUrlProblems } from '../../config/sink.js';
import { ConfigError, OutboxCacheError, type ConfigProblem } from '../../errors.js';
import { createRedisClient, kafkaClientConfig } from '../../ops/clients.js';
import { createLogger } from '../../ops/logger.js';
import type { KAFKA_TOOL_SETTINGS, REDIS_TOOL_SETTINGS } from '../../operations/settings.js';
import type { CommandContext } from '../command.js';

/**
 * Parses `ctx.argv` as `[positional...] [--option value...]` against `table`, then `crossChecks`.
 * `positionals` says how many positionals the command takes; a wrong count is one more problem
 * in the same ConfigError.
 */
export function parseOperationArgs<S extends Record<string, Setting<unknown>>>(
  ctx: CommandContext,
  table: S,
  positionals: { readonly min: number; readonly max: number; readonly what: string },
  crossChecks: (value: SettingsValue<S>) => ConfigProblem[] = () => [],
): { settings: SettingsValue<S>; positionals: string[] } {
  const first = ctx.argv.findIndex((a) => a.startsWith('--'));
  const given = first === -1 ? [...ctx.argv] : ctx.argv.slice(0, first);
  const options = first === -1 ? [] : ctx.argv.slice(first);
  const problems: ConfigProblem[] = [];
  if (given.length < positionals.min || given.length > positionals.max) {
    const expected = positionals.max === 0 ? 'no arguments before the options' : `${positionals.what} (${positionals.min}${positionals.max > positionals.min ? ' or more' : ''})`;
    problems.push({ setting: 'arguments', message: `expected ${expected}, got ${given.length}` });
  }
  let settings: SettingsValue<S> | undefined;
  try {
    settings = parseSettingsWith(table, ctx.env, options, crossChecks);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  if (problems.length > 0 || !settings) throw new ConfigError(problems);
  return { settings, positionals: given };
}

/** Cross checks of the Kafka settings (TLS files, SASL credentials). */
export function kafkaProblems(c: SettingsValue<typeof KAFKA_TOOL_SETTINGS>): ConfigProblem[] {
  return kafkaSecurityProblems(c);
}

/** Cross checks of the Redis settings. */
export function redisProblems(c: SettingsValue<typeof REDIS_TOOL_SETTINGS>): ConfigProblem[] {
  return redisUrlProblems(c);
}

/** A kafkajs client from the tool settings; kafkajs' warnings go to stderr as JSON lines. */
export function kafkaFromSettings(c: SettingsValue<typeof KAFKA_TOOL_SETTINGS>): Kafka {
  const logger = createLogger({ level: 'warn', name: 'outbox-cache', destination: process.stderr });
  return new Kafka(kafkaClientConfig(c, logger));
}

/**
 * A Redis client (single node or Cluster) from the tool settings, once it is ready: the client
 * has no offline queue, so commands sent before the connection would fail.
 */
export async function redisFromSettings(c: SettingsValue<typeof REDIS_TOOL_SETTINGS>, timeoutMs = 10_000): Promise<Redis | Cluster> {
  const redis = createRedisClient(c);
  if (redis.status === 'ready') return redis;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      redis.once('ready', () => resolve());
      timer = setTimeout(() => reject(new OutboxCacheError(`Redis not reachable within ${timeoutMs} ms`, { code: 'REDIS_UNAVAILABLE', retriable: true })), timeoutMs);
    });
    return redis;
  } catch (err) {
    redis.disconnect();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Progress of a long run: a bar on a terminal, nothing otherwise. */
export interface Progress {
  update(done: number, total?: number): void;
  stop(): void;
}

/**
 * A cli-progress bar on `ctx.stderr` when it is a TTY (`unit` names what is counted); a plain
 * counter when the total is not known (e.g. a flush's SCAN).
 */
export function progressBar(ctx: CommandContext, unit: string): Progress {
  const stream = ctx.stderr as NodeJS.WriteStream;
  if (!stream.isTTY) return { update: () => undefined, stop: () => undefined };
  let bar: cliProgress.SingleBar | undefined;
  return {
    update(done, total) {
      if (!bar) {
        const format = total === undefined ? `{value} ${unit} | {duration_formatted}` : `{bar} {value}/{total} ${unit} | {percentage}% | eta {eta_formatted}`;
        bar = new cliProgress.SingleBar({ stream, format, hideCursor: true, clearOnComplete: true, etaBuffer: 50, fps: 5 }, cliProgress.Presets.shades_classic);
        bar.start(total ?? 0, done);
        return;
      }
      if (total !== undefined) bar.setTotal(total);
      bar.update(done);
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
