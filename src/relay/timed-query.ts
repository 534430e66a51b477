/**
 * Pool queries with a deadline. A connection whose TCP path froze (no FIN, no RST) never answers:
 * mysql2's per-query `timeout` fails the query but leaves the stuck command at the head of the
 * connection, so a timed-out connection is destroyed here instead of going back to the pool.
 */
import type { Pool, PoolConnection } from 'mysql2/promise';

/** Default deadline of one relay query on its pool, ms. */
export const DEFAULT_QUERY_TIMEOUT_MS = 10_000;

/**
 * Runs `sql` on a connection of `pool` and returns mysql2's `[rows, fields]`. Rejects with a
 * `PROTOCOL_SEQUENCE_TIMEOUT` (or `ETIMEDOUT` while waiting for a connection) error after `timeoutMs`.
 */
export async function timedQuery<T>(pool: Pool, sql: string, params: readonly unknown[] = [], timeoutMs = DEFAULT_QUERY_TIMEOUT_MS): Promise<[T, unknown]> {
  const conn = await connectionWithin(pool, timeoutMs);
  try {
    const result = (await conn.query({ sql, timeout: timeoutMs }, params as unknown[])) as unknown as [T, unknown];
    conn.release();
    return result;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const fatal = (err as { fatal?: unknown }).fatal === true;
    if (code === 'PROTOCOL_SEQUENCE_TIMEOUT' || fatal) conn.destroy();
    else conn.release();
    throw err;
  }
}

function connectionWithin(pool: Pool, timeoutMs: number): Promise<PoolConnection> {
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(Object.assign(new Error(`no MySQL connection within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    pool.getConnection().then(
      (conn) => {
        clearTimeout(timer);
        if (late) conn.release();
        else resolve(conn);
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (!late) reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
