/**
 * The audit embedded in `outbox-cache run` (redis mode, AUDIT_DELAYS set): the relay hands its
 * applied events to the auditor, which finds a stale entry seeded into Redis during the run (as a
 * restore from an old snapshot would leave it) and serves the same metrics on METRICS_PORT; the
 * report names the key and its versions.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import avro from 'avsc';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import type { RowDataPacket } from 'mysql2/promise';
import { decodeStoredValue } from '../../src/cache/stored-value.js';
import { runCommand } from '../../src/cli/commands/run.js';
import { CACHE_CHANGE_SCHEMA_V1 } from '../../src/codec/cache-change.js';
import { encodeFrame } from '../../src/codec/framing.js';
import { freePort } from '../../src/local-servers/process.js';
import { outboxSubject } from '../../src/outbox/event.js';
import { startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';
import { createTestRedis, uniqueName, waitUntil, type TestDatabase } from '../helpers.js';
import { createOutboxDatabase, insertOutboxRow } from '../relay/relay-helpers.js';
import { scrape } from './audit-helpers.js';

const SCHEMA_ID = 311;
const cacheChange = avro.Type.forSchema(CACHE_CHANGE_SCHEMA_V1 as avro.Schema);
const { redis, prefix } = createTestRedis();
let db: TestDatabase;
let registry: SchemaRegistryDouble;

beforeAll(async () => {
  db = await createOutboxDatabase('audit_run');
  registry = await startSchemaRegistryDouble({ preload: [{ id: SCHEMA_ID, subject: outboxSubject('doc'), schema: CACHE_CHANGE_SCHEMA_V1 }] });
});
afterAll(async () => {
  redis.disconnect();
  await registry?.close();
  await db?.drop();
});

/** Commits one UPSERT event of doc `id` at `version`, occurred now. */
async function commitEvent(id: string, version: number): Promise<void> {
  const now = Date.now();
  const payload = encodeFrame(SCHEMA_ID, cacheChange.toBuffer({
    entity: 'doc', id, version, operation: 'UPSERT', value: Buffer.from(`${id}@${version}`), extraKeys: [], occurredAt: now,
  }));
  const occurredAt = new Date(now).toISOString().replace('T', ' ').replace('Z', '');
  await insertOutboxRow(db.pool, { aggregateType: 'doc', aggregateId: id, type: 'DocChanged', version, occurredAt, payload });
}

async function positionStored(): Promise<boolean> {
  const [rows] = await db.pool.query<RowDataPacket[]>(
    "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'outbox_relay_position'", [db.name]);
  if (rows.length === 0) return false;
  const [stored] = await db.pool.query<RowDataPacket[]>("SELECT 1 FROM outbox_relay_position WHERE relay_name = 'audited'");
  return stored.length > 0;
}

it('finds a stale key seeded during a run and reports it on the metrics port and in the report', async () => {
  const port = await freePort();
  const report = join(tmpdir(), `${uniqueName('embedded-report')}.json`);
  const controller = new AbortController();
  const stderr = new PassThrough();
  let errors = '';
  stderr.on('data', (d: Buffer) => (errors += d.toString()));
  const exit = runCommand.run({
    argv: ['--delays', '5s', '--report', report],
    env: {
      MYSQL_URL: db.url, REDIS_URL: inject('redisUrl'), SCHEMA_REGISTRY_URL: registry.url, CACHE_KEY_PREFIX: prefix,
      RELAY_NAME: 'audited', RELAY_CHECKPOINT_INTERVAL_MS: '50', LOG_LEVEL: 'silent', METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1',
    },
    stdout: new PassThrough(), stderr, signal: controller.signal,
  });
  exit.catch(() => {});
  try {
    await waitUntil('relay started', positionStored, 30_000);
    await commitEvent('a', 1);
    await commitEvent('b', 2);
    const stale = `${prefix}doc:b`;
    await waitUntil('relay applied b', async () => decodeStoredValue(await redis.getBuffer(stale))?.version === 2n, 30_000);
    // Behind the guard's back, before the check at commit + 5 s.
    await redis.set(stale, 'E1:b@1');
    await waitUntil('both keys checked', async () =>
      (await scrape(port, 'outbox_audit_checks_total{delay="5s",result="consistent"}')) +
      (await scrape(port, 'outbox_audit_checks_total{delay="5s",result="inconsistent"}')) === 2, 30_000);
    expect(await scrape(port, 'outbox_audit_checks_total{delay="5s",result="inconsistent"}')).toBe(1);
    expect(await scrape(port, 'outbox_audit_inconsistent_keys_total')).toBe(1);
  } finally {
    controller.abort();
  }
  expect(await exit, errors).toBe(0);
  const written = JSON.parse(readFileSync(report, 'utf8')) as { inconsistent: unknown[] };
  expect(written.inconsistent).toEqual([expect.objectContaining({ key: `${prefix}doc:b`, expectedVersion: '2', found: 'entry', foundVersion: '1', delayMs: 5000 })]);
});
