/**
 * A binlog relay as a lab background worker: the embedded relay (src/relay) on one outbox table,
 * killable and restartable by the relay-crash fault. A restart resumes from the position the
 * relay stored in MySQL, as a restarted process would. Tracks the highest version applied per
 * aggregate id, so the strategy can tell when everything committed has been relayed.
 */
import { createPool, type Pool } from 'mysql2/promise';
import type { OutboxEvent } from '../../outbox/event.js';
import { startRelay, type Relay } from '../../relay/relay.js';
import type { RelayLogger } from '../../relay/logger.js';
import type { BackgroundWorker, StrategyContext } from '../strategy.js';

/** A relay of one outbox table, and what it has applied. */
export interface RelayWorker extends BackgroundWorker {
  /** Highest version applied per aggregate id. */
  readonly applied: ReadonlyMap<string, bigint>;
  /** True while a relay runs. */
  running(): boolean;
  /** Kills the relay and closes its pool. */
  stop(): Promise<void>;
}

/** Options of {@link startRelayWorker}. */
export interface RelayWorkerOptions {
  readonly label: string;
  /** Outbox table it tails. */
  readonly table: string;
  /** Relay name (its stored position and lock). */
  readonly relayName: string;
  /** Applies a batch downstream; rejects with a retriable error on an outage (the relay retries). */
  readonly apply: (events: readonly OutboxEvent[]) => Promise<unknown>;
}

/** Starts the relay and returns it as a worker. */
export async function startRelayWorker(ctx: StrategyContext, options: RelayWorkerOptions): Promise<RelayWorker> {
  const applied = new Map<string, bigint>();
  const pool: Pool = createPool({ uri: ctx.databaseUrl, connectionLimit: 3, timezone: 'Z', supportBigNumbers: true });
  const logger: RelayLogger = {
    debug: () => {}, info: () => {},
    warn: (_fields, message) => ctx.onBackgroundError(new Error(`${options.label}: ${message}`)),
    error: (_fields, message) => ctx.onBackgroundError(new Error(`${options.label}: ${message}`)),
  };
  let current: { relay: Relay; stop: AbortController } | undefined;

  const start = async (): Promise<void> => {
    const stop = new AbortController();
    const relay = await startRelay({
      pool, connection: { uri: ctx.databaseUrl }, database: ctx.database, table: options.table, relayName: options.relayName,
      signal: stop.signal, logger, checkpointIntervalMs: 200,
      apply: async (events) => {
        const result = await options.apply(events);
        for (const event of events) {
          if ((applied.get(event.aggregateId) ?? 0n) < event.version) applied.set(event.aggregateId, event.version);
        }
        return result;
      },
    });
    current = { relay, stop };
  };
  const kill = async (): Promise<void> => {
    if (!current) return;
    const { relay, stop } = current;
    current = undefined;
    stop.abort();
    await relay.done.catch(ctx.onBackgroundError);
  };
  await start();
  return {
    label: options.label,
    applied,
    running: () => current !== undefined,
    kill,
    restart: start,
    async stop() {
      await kill();
      await pool.end();
    },
  };
}

/** True when the relay has applied at least the `latest` version of every id. */
export function relayedAll(worker: RelayWorker, latest: ReadonlyMap<number, bigint>): boolean {
  for (const [id, version] of latest) {
    if ((worker.applied.get(String(id)) ?? 0n) < version) return false;
  }
  return worker.running();
}
