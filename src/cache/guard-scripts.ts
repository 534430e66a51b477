/**
 * Loads the guard's Lua scripts (src/cache/lua, copied next to the compiled JS by the build) and
 * registers them on an ioredis client with `defineCommand`, which sends EVALSHA and falls back to
 * EVAL once per connection when Redis does not know the script yet.
 */
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';

/** A client the guard runs on: a single node or a cluster. */
export type GuardRedis = Redis | Cluster;

/** Each script: its file under `lua/` and its number of keys (null: variable, passed per call). */
export const GUARD_SCRIPTS = {
  upsertEntry: { file: 'upsertEntry-1.lua', keys: 1 },
  invalidateEntry: { file: 'invalidateEntry-1.lua', keys: 1 },
  deleteEntry: { file: 'deleteEntry-1.lua', keys: 1 },
  acquireLease: { file: 'acquireLease-1.lua', keys: 1 },
  fillEntry: { file: 'fillEntry-1.lua', keys: 1 },
  releaseLease: { file: 'releaseLease-1.lua', keys: 1 },
  applyActions: { file: 'applyActions-n.lua', keys: null },
  acquireLeases: { file: 'acquireLeases-n.lua', keys: null },
  fillEntries: { file: 'fillEntries-n.lua', keys: null },
  tombstoneEntries: { file: 'tombstoneEntries-n.lua', keys: null },
} as const;

/** Name of a guard script. */
export type GuardScriptName = keyof typeof GUARD_SCRIPTS;

type Arg = string | Buffer | number;

/**
 * The guard scripts as typed methods on a client (see each .lua file's header for arguments and
 * replies). Buffer variants return binary-safe replies.
 */
export interface GuardCommands {
  outboxCacheUpsertEntry(key: string, version: string, ttlMs: number, data: Buffer): Promise<number>;
  outboxCacheInvalidateEntry(key: string, version: string, ttlMs: number, keepBytes?: '1' | '0'): Promise<number>;
  outboxCacheDeleteEntry(key: string, version: string, ttlMs: number): Promise<number>;
  outboxCacheAcquireLeaseBuffer(key: string, token: string, ttlMs: number | string, minVersion: string): Promise<[Buffer, Buffer, Buffer]>;
  outboxCacheFillEntry(
    key: string, version: string, state: 'E' | 'A', ttlMs: number | string, data: Buffer | string, token: string, tombstoneTtlMs: number | string,
    l1Channel?: string, publishMode?: 'S' | 'P',
  ): Promise<number>;
  outboxCacheReleaseLease(key: string, token: string, tombstoneTtlMs: number | string): Promise<number>;
  outboxCacheApplyActions(numKeys: number | string, ...keysAndArgs: Arg[]): Promise<string>;
  outboxCacheAcquireLeases(numKeys: number | string, ...keysAndArgs: Arg[]): Promise<string>;
  outboxCacheFillEntries(numKeys: number | string, ...keysAndArgs: Arg[]): Promise<string>;
  outboxCacheTombstoneEntries(numKeys: number | string, ...keysAndArgs: Arg[]): Promise<string>;
}

const LUA_DIR = new URL('./lua/', import.meta.url);
const INCLUDE = /^--@include (\w+)$/gm;

/** Full text of a script as sent to Redis, with its `--@include` lines replaced by the includes. */
export function guardScriptSource(name: GuardScriptName): string {
  const text = readFileSync(new URL(GUARD_SCRIPTS[name].file, LUA_DIR), 'utf8');
  return text.replace(INCLUDE, (_line, include: string) =>
    readFileSync(new URL(`includes/${include}.lua`, LUA_DIR), 'utf8'),
  );
}

/** Registers every guard script on `redis` (idempotent) and returns it typed with the commands. */
export function defineGuardCommands(redis: GuardRedis): GuardRedis & GuardCommands {
  for (const [name, spec] of Object.entries(GUARD_SCRIPTS) as [GuardScriptName, (typeof GUARD_SCRIPTS)[GuardScriptName]][]) {
    const command = `outboxCache${name[0]?.toUpperCase()}${name.slice(1)}`;
    if (typeof (redis as unknown as Record<string, unknown>)[command] === 'function') continue;
    redis.defineCommand(command, {
      lua: guardScriptSource(name),
      ...(spec.keys === null ? {} : { numberOfKeys: spec.keys }),
    });
  }
  return redis as GuardRedis & GuardCommands;
}
