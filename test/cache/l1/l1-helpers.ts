/** Helpers of the L1 tests. */
import type { Redis } from 'ioredis';

/**
 * Kills the L1 subscriber connection(s) of `redis` (named `<connectionName>:l1`) and only those:
 * other test files share the server.
 */
export async function killSubscriber(redis: Redis): Promise<void> {
  const name = `${redis.options.connectionName ?? 'outbox-cache'}:l1`;
  const list = String(await redis.call('CLIENT', 'LIST'));
  const ids = list.split('\n').filter((line) => line.includes(` name=${name} `)).map((line) => /^id=(\d+)/.exec(line)?.[1]);
  if (ids.length === 0) throw new Error(`no subscriber connection named ${name}`);
  for (const id of ids) if (id) await redis.call('CLIENT', 'KILL', 'ID', id);
}
