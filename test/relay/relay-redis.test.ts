/**
 * Embedded mode end to end on real servers: MariaDB commits → relay → the sink's decode + map +
 * coalesce + apply step → the guard's RedisCacheWriter. After a restart of the relay mid-run, every
 * key holds exactly the database's last version and value.
 */
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisCacheWriter } from '../../src/cache/redis-cache-writer.js';
import { decodeStoredValue } from '../../src/cache/stored-value.js';
import { CACHE_CHANGE_SCHEMA_V1 } from '../../src/codec/cache-change.js';
import { AvroCodec } from '../../src/codec/codec.js';
import { encodeFrame } from '../../src/codec/framing.js';
import { SchemaRegistryClient } from '../../src/codec/registry-client.js';
import { outboxSubject } from '../../src/outbox/event.js';
import { createApplyStep } from '../../src/sink/apply-step.js';
import { startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';
import { createTestRedis, waitUntil, type TestDatabase } from '../helpers.js';
import { createOutboxDatabase, insertOutboxRow, startTestRelay } from './relay-helpers.js';

const SCHEMA_ID = 101;
const cacheChange = avro.Type.forSchema(CACHE_CHANGE_SCHEMA_V1 as avro.Schema);
const { redis, prefix } = createTestRedis();
let db: TestDatabase;
let registry: SchemaRegistryDouble;

beforeAll(async () => {
  db = await createOutboxDatabase('relay_redis');
  await db.pool.query('CREATE TABLE item (id VARCHAR(32) PRIMARY KEY, body VARCHAR(64) NOT NULL, version BIGINT NOT NULL)');
  await db.pool.query("INSERT INTO item VALUES ('a', '', 0), ('b', '', 0), ('c', '', 0), ('d', '', 0)");
  registry = await startSchemaRegistryDouble({ preload: [{ id: SCHEMA_ID, subject: outboxSubject('item'), schema: CACHE_CHANGE_SCHEMA_V1 }] });
});
afterAll(async () => {
  redis.disconnect();
  await registry?.close();
  await db?.drop();
});

/** A domain write with its outbox event in one transaction, as the outbox writer does it. */
async function update(id: string, body: string): Promise<void> {
  const conn = await db.pool.getConnection();
  try {
    await conn.beginTransaction();
    await conn.query('UPDATE item SET body = ?, version = LAST_INSERT_ID(version + 1) WHERE id = ?', [body, id]);
    const [[{ v }]] = (await conn.query('SELECT LAST_INSERT_ID() AS v')) as unknown as [[{ v: number }]];
    const payload = encodeFrame(SCHEMA_ID, cacheChange.toBuffer({
      entity: 'item', id, version: v, operation: 'UPSERT', value: Buffer.from(body), extraKeys: [], occurredAt: Date.now(),
    }));
    const eventId = await insertOutboxRow(conn, { aggregateType: 'item', aggregateId: id, type: 'ItemChanged', version: v, payload });
    await conn.query('DELETE FROM outbox WHERE id = ?', [eventId]);
    await conn.commit();
  } finally {
    conn.release();
  }
}

async function cacheMatchesDatabase(): Promise<boolean> {
  const [rows] = (await db.pool.query('SELECT id, body, version FROM item')) as unknown as [{ id: string; body: string; version: number }[]];
  for (const row of rows) {
    const stored = decodeStoredValue(await redis.getBuffer(`${prefix}item:${row.id}`));
    if (stored?.state !== 'entry' || stored.version !== BigInt(row.version) || stored.data.toString() !== row.body) return false;
  }
  return rows.length > 0;
}

describe('embedded relay to Redis', () => {
  it('leaves every key at the database\'s version and value, across a relay restart', async () => {
    const step = createApplyStep({
      decoder: new AvroCodec({ registry: new SchemaRegistryClient({ url: registry.url, timeoutMs: 2000 }) }),
      writer: new RedisCacheWriter({ redis, commandTimeoutMs: 2000 }),
      mapping: { keyPrefix: prefix },
    });
    const ids = ['a', 'b', 'c', 'd'];
    const writers = (round: number) => Promise.all(ids.map(async (id, w) => {
      for (let i = 0; i < 15; i++) await update(ids[(w + i) % ids.length] as string, `r${round}-w${w}-${i}`);
    }));
    const first = await startTestRelay(db, { apply: step, relayName: 'redis' });
    const running = writers(1);
    // Stop the relay while writers are still committing.
    await waitUntil('some events applied', () => first.relay.stats().events >= 5);
    await first.stop();
    await running;
    await writers(2);
    const second = await startTestRelay(db, { apply: step, relayName: 'redis' });
    try {
      await waitUntil('cache matches the database', cacheMatchesDatabase, 30_000);
      expect(second.relay.stats().invalidRows).toBe(0);
    } finally {
      await second.stop();
    }
  });
});
