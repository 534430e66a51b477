/**
 * How the guard talks to Redis: a deadline on every call, Redis failures mapped to ScriptError
 * (retriable unless the reply is about the key itself), and a check that the client cannot queue
 * commands forever while Redis is down.
 */
import { ConfigError, ScriptError } from '../errors.js';
import type { GuardRedis } from './guard-scripts.js';

/** Default deadline of one guard call to Redis, in milliseconds. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2_000;

/**
 * Reply errors that belong to the key a call names, not to the server: the only Redis failures
 * that are never retried (DESIGN.md §5). WRONGTYPE is the one today: a key holding a foreign Redis
 * type stays so until someone deletes it. Inside a script, Redis reports it after a prefix
 * (`ERR Error running script ...: WRONGTYPE ...` before 7.0), hence the word match.
 */
const KEY_SPECIFIC_REPLY = /\bWRONGTYPE\b/;

/**
 * Maps a failure of a Redis call to a ScriptError. Only a reply about the key itself (WRONGTYPE)
 * is non-retriable (`CACHE_KEY_WRONG_TYPE`). Everything else is retriable: connection failures
 * and timeouts (`REDIS_UNAVAILABLE`), and every other reply (`REDIS_REFUSED`), known or not,
 * since replies such as MISCONF, NOAUTH, WRONGPASS, NOPERM, READONLY, OOM, LOADING, BUSY,
 * CLUSTERDOWN, TRYAGAIN or MASTERDOWN describe the server, and an operator can fix the server:
 * the caller waits instead of dropping writes. `what` names the operation and key, never values.
 */
export function toScriptError(err: unknown, what: string): ScriptError {
  if (err instanceof ScriptError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const isReply = err instanceof Error && err.name === 'ReplyError';
  if (isReply && KEY_SPECIFIC_REPLY.test(message)) {
    return new ScriptError(`${what}: the key holds a non-string Redis value: ${message}`, { code: 'CACHE_KEY_WRONG_TYPE', cause: err });
  }
  if (isReply) {
    return new ScriptError(`${what}: Redis refused the call (${message}); retry later`, { code: 'REDIS_REFUSED', retriable: true, cause: err });
  }
  return new ScriptError(`${what}: Redis unavailable (${message}); retry later`, {
    code: 'REDIS_UNAVAILABLE',
    retriable: true,
    cause: err,
  });
}

/**
 * Runs one Redis call with a deadline of `timeoutMs`; any failure becomes a ScriptError. A call
 * that timed out may still run later if the client had queued it: every guard script is safe to
 * run late (the sink's by version, fills by the read-age check on the Redis clock).
 */
export async function guardedCall<T>(what: string, timeoutMs: number, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([call(), deadline]);
  } catch (err) {
    throw toScriptError(err, what);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Refuses a client configured to hold commands forever while Redis is down (offline queue on
 * with `maxRetriesPerRequest: null`): the sink retries a failed batch, and each retry would add
 * to an unbounded queue replayed in bulk on reconnection. Not refused, but documented: an ioredis
 * Cluster with its offline queue on holds commands while it reconnects, whatever the per-node
 * `maxRetriesPerRequest` (each call still fails at its deadline).
 */
export function assertBoundedQueue(redis: GuardRedis): void {
  const cluster = redis.isCluster;
  const options = redis.options as {
    enableOfflineQueue?: boolean;
    maxRetriesPerRequest?: number | null;
    redisOptions?: { maxRetriesPerRequest?: number | null };
  };
  const offlineQueue = options.enableOfflineQueue !== false;
  const retries = cluster ? options.redisOptions?.maxRetriesPerRequest : options.maxRetriesPerRequest;
  if (offlineQueue && retries === null) {
    const setting = cluster ? 'redisOptions.maxRetriesPerRequest' : 'maxRetriesPerRequest';
    throw new ConfigError([
      {
        setting,
        message:
          'null with the offline queue on lets commands wait forever while Redis is down; ' +
          'set it to a number (e.g. 1) or set enableOfflineQueue: false',
      },
    ]);
  }
}

/** Positive integer check for option values, reported as a ConfigError naming the option. */
export function positiveInteger(setting: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError([{ setting, message: `must be a positive integer, got ${value}` }]);
  }
  return value;
}
