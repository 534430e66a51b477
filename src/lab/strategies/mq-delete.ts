/**
 * Message-queue retried delete: 1. UPDATE and commit; 2. send "delete <key>" to a queue; a
 * consumer takes each message and DELs the key, and on failure puts it back and retries (with a
 * pause) until the DEL succeeds. Readers GET; on a miss read the database and SET.
 *
 * The queue stands in for the broker: it outlives the consumer (killing the consumer leaves the
 * messages queued for its restart), but a message the app never sent is never there.
 */
import { sleep } from '../../retry.js';
import { nextItemValue, updateItem } from '../item-table.js';
import type { StrategyDefinition } from '../strategy.js';
import { plainCacheOf } from './plain-cache.js';

/** Options of {@link mqRetriedDelete}. */
export interface MqDeleteOptions {
  /** Pause before a failed DEL is retried, ms. */
  readonly retryMs: number;
}

/** The MQ-retried delete strategy. */
export function mqRetriedDelete(options: MqDeleteOptions): StrategyDefinition {
  return {
    name: 'mq-delete',
    steps: 'update the database, then enqueue a delete; a consumer DELs the key, retrying until it succeeds',
    failureMode:
      'Retries make a sent delete happen eventually, through Redis errors and consumer restarts. They do nothing for a delete never sent (the app died after its commit), ' +
      'and nothing for the reader race: a fill of an old row that lands after the consumer\'s DEL stays.',
    async create(ctx) {
      const cache = plainCacheOf(ctx);
      const queue: number[] = [];
      let wake: (() => void) | undefined;
      let running: { stop: AbortController; done: Promise<void> } | undefined;
      let inFlight = 0;

      const consume = async (stop: AbortSignal): Promise<void> => {
        while (!stop.aborted) {
          const id = queue.shift();
          if (id === undefined) {
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
            continue;
          }
          inFlight += 1;
          try {
            await cache.del(id);
          } catch (err) {
            // Not acknowledged: back to the head of the queue, retried after a pause.
            queue.unshift(id);
            ctx.onBackgroundError(err);
            await sleep(options.retryMs, stop);
          } finally {
            inFlight -= 1;
          }
        }
      };
      const start = (): void => {
        const stop = new AbortController();
        running = { stop, done: consume(stop.signal) };
      };
      const kill = async (): Promise<void> => {
        if (!running) return;
        running.stop.abort();
        wake?.();
        await running.done;
        running = undefined;
      };
      start();

      return {
        async write(id) {
          const value = nextItemValue(id);
          ctx.committed(id, await updateItem(ctx.writePool, ctx.name, value), value.name);
          if (ctx.diesHere()) return;
          queue.push(id);
          wake?.();
        },
        read: (id) => cache.readThrough(ctx, id),
        peek: (ids, redis) => cache.peek(ids, redis),
        crash: () => {},
        workers: [{ label: 'queue consumer', kill, restart: async () => start() }],
        settled: async () => queue.length === 0 && inFlight === 0 && running !== undefined,
        stop: kill,
      };
    },
  };
}
