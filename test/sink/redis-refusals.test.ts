/**
 * Redis refusing writes for reasons that describe the server, not the keys (DESIGN.md §5): a
 * failed snapshot (MISCONF), an ACL that no longer allows scripts (NOPERM), a password rotated
 * under the sink (WRONGPASS). The whole `runSinkFromConfig` runs against a real Redis: while a
 * fault lasts it commits nothing, dead-letters nothing and /readyz answers 503; once the operator
 * fixes the server it applies everything.
 */
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Admin, Producer } from 'kafkajs';
import { parseSinkConfig } from '../../src/config/sink.js';
import { startRedis, type LocalRedis } from '../../src/local-servers/index.js';
import { createLogger } from '../../src/ops/logger.js';
import { outboxSubject, outboxTopic } from '../../src/outbox/event.js';
import { runSinkFromConfig } from '../../src/sink/from-config.js';
import { createTestKafka, uniqueName, waitUntil } from '../helpers.js';
import { startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';
import { USER_CHANGED_V1, cacheState, committedOffsets, debeziumMessage, debeziumProducer, endOffsets, framed, produceAll } from './harness.js';

const kafka = createTestKafka();
let server: LocalRedis;
let registry: SchemaRegistryDouble;
let producer: Producer;
let admin: Admin;
let operator: Redis;
beforeAll(async () => {
  // CONFIG SET dir is a protected setting since Redis 7.
  [server, registry, producer] = await Promise.all([
    startRedis({ extraArgs: ['--enable-protected-configs', 'yes'] }), startSchemaRegistryDouble(), debeziumProducer(kafka),
  ]);
  admin = kafka.admin();
  await admin.connect();
  operator = new Redis(server.url);
});
afterAll(async () => {
  operator?.disconnect();
  await Promise.allSettled([producer?.disconnect(), admin?.disconnect(), registry?.close(), server?.stop()]);
});

async function scrape(port: number): Promise<{ ready: number; retries: number; deadLettered: number }> {
  const [ready, text] = await Promise.all([
    fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status),
    fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()),
  ]);
  const sum = (name: string) => [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'gm'))].reduce((s, m) => s + Number(m[1]), 0);
  return { ready, retries: sum('outbox_sink_retries_total'), deadLettered: sum('outbox_sink_records_dead_lettered_total') };
}

async function lastBgsave(): Promise<string | undefined> {
  const info = await operator.info('persistence');
  if (/rdb_bgsave_in_progress:1/.test(info)) return undefined;
  return /rdb_last_bgsave_status:(\w+)/.exec(info)?.[1];
}

it('pauses on MISCONF, NOPERM and WRONGPASS, commits and dead-letters nothing, and resumes when each is fixed', async () => {
  const type = uniqueName('usr');
  const topic = outboxTopic(type);
  const schemaId = registry.store.register(outboxSubject(type), JSON.stringify(USER_CHANGED_V1));
  const keys = 30;
  const batch = (version: number) => Array.from({ length: keys }, (_, k) =>
    debeziumMessage({ aggregateId: `k${k}`, version, payload: framed(USER_CHANGED_V1, schemaId, { id: k, name: 'n', email: null, version }) }));
  const user = uniqueName('sinkuser');
  await operator.call('ACL', 'SETUSER', user, 'on', '>first-secret', '~*', '&*', '+@all');
  const groupId = uniqueName('sink');
  const config = parseSinkConfig({
    KAFKA_BROKERS: inject('kafkaBrokers').join(','), KAFKA_TOPICS: topic, KAFKA_GROUP_ID: groupId, DLQ_TOPIC: uniqueName('dlq'),
    SCHEMA_REGISTRY_URL: registry.url, REDIS_URL: `redis://${user}:first-secret@127.0.0.1:${server.port}`,
    METRICS_PORT: '0', METRICS_HOST: '127.0.0.1', SINK_RETRY_MAX_DELAY_MS: '200', KAFKA_SESSION_TIMEOUT_MS: '6000',
  });
  const controller = new AbortController();
  let port = 0;
  const running = runSinkFromConfig(config, { signal: controller.signal, logger: createLogger({ level: 'silent' }), onListening: (p) => (port = p) });
  running.catch(() => {});
  const atVersion = async (version: bigint) => {
    const state = await cacheState(operator, `${type}:`);
    return state.size === keys && [...state.values()].every((v) => v.version === version);
  };
  const committedAll = async () => {
    const [committed, ends] = await Promise.all([committedOffsets(admin, groupId, topic), endOffsets(admin, topic)]);
    return [...ends].every(([p, end]) => end === 0n || committed.get(p) === end);
  };
  let version = 1;
  let dir = '';
  const faults: [string, () => Promise<void>, () => Promise<void>][] = [
    ['MISCONF', async () => {
      dir = ((await operator.config('GET', 'dir')) as string[])[1] ?? '';
      await operator.config('SET', 'save', '3600 1');
      await operator.config('SET', 'dir', '/proc');
      await operator.bgsave();
      await waitUntil('a failed background save', async () => (await lastBgsave()) === 'err');
    }, async () => {
      await operator.config('SET', 'dir', dir);
      await operator.bgsave();
      await waitUntil('a good background save', async () => (await lastBgsave()) === 'ok');
    }],
    ['NOPERM', async () => {
      await operator.call('ACL', 'SETUSER', user, '-@scripting');
    }, async () => {
      await operator.call('ACL', 'SETUSER', user, '+@all');
    }],
    ['WRONGPASS', async () => {
      await operator.call('ACL', 'SETUSER', user, 'resetpass', '>rotated-secret');
      await operator.call('CLIENT', 'KILL', 'USER', user);
    }, async () => {
      await operator.call('ACL', 'SETUSER', user, '>first-secret');
    }],
  ];
  try {
    await produceAll(producer, topic, batch(version));
    await waitUntil('first batch applied and committed', async () => (await atVersion(1n)) && (await committedAll()), 30_000);
    await waitUntil('ready', async () => port > 0 && (await scrape(port)).ready === 200);
    for (const [name, inject, fix] of faults) {
      await inject();
      const before = await scrape(port);
      const committedBefore = await committedOffsets(admin, groupId, topic);
      version += 1;
      await produceAll(producer, topic, batch(version));
      await waitUntil(`the sink retrying during ${name}`, async () => (await scrape(port)).retries >= before.retries + 3);
      const during = await scrape(port);
      expect(during.ready, name).toBe(503);
      expect(during.deadLettered, name).toBe(0);
      expect(await committedOffsets(admin, groupId, topic), name).toEqual(committedBefore);
      expect(await atVersion(BigInt(version - 1)), name).toBe(true);
      await fix();
      await waitUntil(`everything applied and committed after ${name} was fixed`, async () => (await atVersion(BigInt(version))) && (await committedAll()), 30_000);
      await waitUntil(`ready again after ${name}`, async () => (await scrape(port)).ready === 200);
    }
    expect((await scrape(port)).deadLettered).toBe(0);
  } finally {
    controller.abort();
    await running;
  }
}, 120_000);
