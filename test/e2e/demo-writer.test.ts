/**
 * `outbox-cache demo writer` (the docker compose stack's writer) against the test MariaDB and the
 * registry double holding the shipped schemas: the relay sees every write it commits, encoded with
 * the latest schema of each subject, and it stops cleanly on its duration and on SIGTERM.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createPool, type Pool } from 'mysql2/promise';
import type { CommandContext } from '../../src/cli/command.js';
import { demoWriterCommand } from '../../src/cli/commands/demo-writer.js';
import { AvroCodec } from '../../src/codec/codec.js';
import { SchemaRegistryClient } from '../../src/codec/registry-client.js';
import { loadSchemaManifest } from '../../src/codec/schema-manifest.js';
import { SHIPPED_AVRO_DIR } from '../../src/demo/package-root.js';
import { allProducts, productBytes } from '../../src/demo/product-table.js';
import { demoVersions } from '../../src/demo/writer.js';
import type { OutboxEvent } from '../../src/outbox/event.js';
import { migrateOutbox } from '../../src/outbox/migrate.js';
import { startRelay, type Relay } from '../../src/relay/index.js';
import { startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';
import { createTestDatabase, waitUntil, type TestDatabase } from '../helpers.js';

let db: TestDatabase;
let relayPool: Pool;
let registry: SchemaRegistryDouble;
let relay: Relay;
const stopRelay = new AbortController();
const seen: OutboxEvent[] = [];

beforeAll(async () => {
  db = await createTestDatabase('e2e_writer');
  const conn = await db.pool.getConnection();
  await migrateOutbox(conn);
  conn.release();
  const manifest = await loadSchemaManifest(SHIPPED_AVRO_DIR);
  let id = 7301;
  registry = await startSchemaRegistryDouble({
    preload: manifest.subjects.flatMap((s) => s.schemas.map((schema) => ({ id: id++, subject: s.subject, schema: schema.text }))),
  });
  relayPool = createPool({ uri: db.url, connectionLimit: 3, timezone: 'Z', supportBigNumbers: true });
  relay = await startRelay({
    pool: relayPool, connection: { uri: inject('mysqlUrl') }, database: db.name, relayName: 'writer-test', signal: stopRelay.signal,
    apply: async (events) => void seen.push(...events),
  });
});
afterAll(async () => {
  stopRelay.abort();
  await relay?.done;
  await registry?.close();
  await relayPool?.end();
  await db?.drop();
});

function context(argv: string[], signal: AbortSignal): CommandContext & { out: () => string; err: () => string } {
  let stdout = '';
  let stderr = '';
  const stream = (append: (t: string) => void): Writable => new Writable({ write: (chunk, _e, done) => (append(String(chunk)), done()) });
  return {
    argv, signal, env: { MYSQL_URL: db.url, SCHEMA_REGISTRY_URL: registry.url },
    stdout: stream((t) => (stdout += t)), stderr: stream((t) => (stderr += t)),
    out: () => stdout, err: () => stderr,
  };
}

describe('outbox-cache demo writer', () => {
  it('creates its tables and writes users and products through the outbox until its duration ends', async () => {
    const ctx = context(['--duration', '1500ms', '--rate', '30', '--keys', '4'], new AbortController().signal);
    expect(await demoWriterCommand.run(ctx)).toBe(0);
    expect(ctx.err()).toBe('');
    const [, users, products] = /stopped after (\d+) user and (\d+) product writes/.exec(ctx.out())?.map(Number) ?? [];
    expect(users).toBeGreaterThan(5);
    expect(products).toBeGreaterThan(5);
    await waitUntil('the relay saw every write', () => seen.length === (users ?? 0) + (products ?? 0));

    const { users: userVersions, products: productVersions } = await demoVersions(db.pool);
    const latest = (type: string): Map<number, bigint> => {
      const m = new Map<number, bigint>();
      for (const e of seen.filter((x) => x.aggregateType === type)) if (e.version > (m.get(Number(e.aggregateId)) ?? 0n)) m.set(Number(e.aggregateId), e.version);
      return m;
    };
    // Every row that was written has its last version in the binlog (seed rows stay at version 1).
    expect(latest('user')).toEqual(new Map([...userVersions].filter(([, v]) => v > 1n)));
    expect(latest('product')).toEqual(new Map([...productVersions].filter(([, v]) => v > 1n)));

    const codec = new AvroCodec({ registry: new SchemaRegistryClient({ url: registry.url }) });
    const rows = await allProducts(db.pool);
    for (const event of seen) {
      const decoded = await codec.decode(event.payload, { subject: `outbox.event.${event.aggregateType}-value` });
      if (event.aggregateType === 'user') {
        // The latest registered version of the subject: UserChanged v2, with its locale.
        expect(decoded).toMatchObject({ schemaId: 7302, writerSchemaName: 'com.example.users.UserChanged', value: { id: Number(event.aggregateId), locale: 'en' } });
      } else {
        expect(decoded).toMatchObject({ schemaId: 7303, writerSchemaName: 'io.outboxcache.CacheChange', value: { entity: 'product', id: event.aggregateId, operation: 'UPSERT' } });
        const row = rows.get(Number(event.aggregateId));
        if (row?.version === event.version) expect((decoded.value as { value: Buffer }).value).toEqual(productBytes(row.value));
      }
    }
  });

  it('stops cleanly (exit 0) on SIGTERM', async () => {
    const controller = new AbortController();
    const ctx = context(['--rate', '20', '--keys', '4'], controller.signal);
    const before = seen.length;
    const running = demoWriterCommand.run(ctx);
    await waitUntil('a write relayed', () => seen.length > before);
    controller.abort();
    expect(await running).toBe(0);
    expect(ctx.out()).toMatch(/stopped after \d+ user and \d+ product writes/);
  });
});
