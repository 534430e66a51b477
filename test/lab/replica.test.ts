/**
 * The replica-reads fault reads a real lagging replica: a second MariaDB replicating the lab's
 * database from the test server with MASTER_DELAY, where a committed row shows up only after the
 * delay, and never a row of another database.
 */
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { startReplica } from '../../src/lab/replica.js';
import { uniqueName, waitUntil } from '../helpers.js';

describe('the lab\'s lagging replica', () => {
  it('replicates the lab database only, MASTER_DELAY seconds late', async () => {
    const database = uniqueName('lab_replica');
    const other = uniqueName('not_replicated');
    const replica = await startReplica({ primaryUrl: inject('mysqlUrl'), database, delaySeconds: 2, readers: 1 });
    const primary = await createConnection({ uri: inject('mysqlUrl') });
    try {
      await primary.query(`CREATE DATABASE \`${database}\``);
      await primary.query(`CREATE TABLE \`${database}\`.t (id INT PRIMARY KEY, v INT)`);
      await primary.query(`INSERT INTO \`${database}\`.t VALUES (1, 1)`);
      await waitUntil('the row on the replica', async () => {
        try {
          const [rows] = await replica.pool.query<RowDataPacket[]>('SELECT v FROM t WHERE id = 1');
          return rows.length === 1;
        } catch {
          return false;
        }
      }, 30_000);
      await primary.query(`CREATE DATABASE \`${other}\``);
      await primary.query(`CREATE TABLE \`${other}\`.t (id INT PRIMARY KEY)`);
      const committedAt = performance.now();
      await primary.query(`UPDATE \`${database}\`.t SET v = 2 WHERE id = 1`);
      const [early] = await replica.pool.query<RowDataPacket[]>('SELECT v FROM t WHERE id = 1');
      expect(early[0]?.v).toBe(1);
      await waitUntil('the update on the replica', async () => {
        const [rows] = await replica.pool.query<RowDataPacket[]>('SELECT v FROM t WHERE id = 1');
        return rows[0]?.v === 2;
      }, 30_000);
      // MASTER_DELAY counts from the event's timestamp, which has whole-second resolution: a 2 s
      // delay shows up between 1 s and 2 s after the commit.
      expect(performance.now() - committedAt).toBeGreaterThanOrEqual(1000);
      const [dbs] = await replica.pool.query<RowDataPacket[]>('SHOW DATABASES');
      // Committed before the update, so it would be there by now if it were replicated.
      expect(dbs.map((r) => Object.values(r)[0])).not.toContain(other);
    } finally {
      await primary.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await primary.query(`DROP DATABASE IF EXISTS \`${other}\``);
      await primary.end();
      await replica.stop();
    }
  }, 180_000); // initialising and starting a second MariaDB takes a while on a loaded machine
});
