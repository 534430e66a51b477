/**
 * Every strategy the lab can run, in the order of its table. A new row (e.g. "ours + L1") is one
 * more definition here: the workload, faults, measurement and report pick it up as they are.
 */
import type { StrategyDefinition } from '../strategy.js';
import { binlogDelete } from './binlog-delete.js';
import { cacheThenDb, dbThenCache, writeThrough, writeThroughLocked } from './cache-update.js';
import { cacheAside, delayedDoubleDelete, deleteFirst, ttlOnly } from './invalidation.js';
import { mqRetriedDelete } from './mq-delete.js';
import { ours, oursL1 } from './ours.js';
import { writeBehind } from './write-behind.js';

/** Tunables of the strategies that have one. Durations in ms. */
export interface StrategyTunables {
  /** Delayed double delete's sleep before the second delete. */
  readonly doubleDeleteSleepMs: number;
  /** TTL-only's entry TTL. */
  readonly ttlOnlyMs: number;
  /** Write-behind's flush interval. */
  readonly writeBehindFlushMs: number;
  /** Locked write-through's lock TTL. */
  readonly lockTtlMs: number;
  /** MQ consumer's pause before retrying a failed delete. */
  readonly mqRetryMs: number;
}

/** Every strategy, in table order (the seeds first, ours last). */
export function labStrategies(t: StrategyTunables): StrategyDefinition[] {
  return [
    cacheAside,
    deleteFirst,
    delayedDoubleDelete({ sleepMs: t.doubleDeleteSleepMs }),
    dbThenCache,
    cacheThenDb,
    writeThrough,
    writeThroughLocked({ lockTtlMs: t.lockTtlMs }),
    writeBehind({ flushMs: t.writeBehindFlushMs }),
    mqRetriedDelete({ retryMs: t.mqRetryMs }),
    binlogDelete,
    ttlOnly({ ttlMs: t.ttlOnlyMs }),
    ours,
    oursL1,
  ];
}

/** The tunables' defaults (the lab's settings default to the same values). */
export const DEFAULT_TUNABLES: StrategyTunables = Object.freeze({
  doubleDeleteSleepMs: 500, ttlOnlyMs: 5000, writeBehindFlushMs: 500, lockTtlMs: 2000, mqRetryMs: 100,
});

/** Names of every strategy, in table order (names do not depend on the tunables). */
export const STRATEGY_NAMES: readonly string[] = labStrategies(DEFAULT_TUNABLES).map((s) => s.name);
