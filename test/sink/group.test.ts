/**
 * `outbox-cache sink` and its consumer group: a sink restarted after SIGTERM resumes within
 * seconds, even with a long session timeout. (On librdkafka's mock cluster, the test Kafka, a
 * member whose connection closes also leaves at once, so this test shows the recovery time, not
 * the LeaveGroup itself; on a real broker a member that does not leave holds its partitions until
 * its session expires.)
 * (Several members at once are not tested here: librdkafka 2.0's mock cluster, the test Kafka,
 * completes a group's sync as soon as the leader's SyncGroup assigns every member and answers a
 * follower's later SyncGroup with INVALID_REQUEST, which kafkajs treats as fatal.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import type { Admin, Producer } from 'kafkajs';
import { outboxSubject, outboxTopic } from '../../src/outbox/event.js';
import { createTestKafka, createTestRedis, uniqueName, waitUntil } from '../helpers.js';
import { startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';
import { USER_CHANGED_V1, cacheState, committedOffsets, debeziumMessage, debeziumProducer, endOffsets, framed, produceAll } from './harness.js';

const kafka = createTestKafka();
const { redis, prefix } = createTestRedis();
let registry: SchemaRegistryDouble;
let producer: Producer;
let admin: Admin;
const children: ChildProcess[] = [];
beforeAll(async () => {
  [registry, producer] = await Promise.all([startSchemaRegistryDouble(), debeziumProducer(kafka)]);
  admin = kafka.admin();
  await admin.connect();
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.allSettled([producer?.disconnect(), admin?.disconnect(), registry?.close()]);
  redis.disconnect();
});

interface SinkProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
  /** performance.now() when the process logged `msg`, if it did. */
  loggedAt(msg: string): number | undefined;
  /** How many times the process logged `msg`. */
  count(msg: string): number;
  /** performance.now() when the process last logged `msg`, if it did. */
  lastAt(msg: string): number | undefined;
}

function spawnSink(env: Record<string, string>): SinkProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'sink'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  const seen = new Map<string, number>();
  const last = new Map<string, number>();
  const onData = (d: Buffer) => {
    output = (output + d.toString()).slice(-50_000);
    for (const msg of ['sink started', 'joined consumer group', 'record dead-lettered']) {
      if (!d.toString().includes(`"msg":"${msg}"`)) continue;
      if (!seen.has(msg)) seen.set(msg, performance.now());
      last.set(msg, performance.now());
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let full = '';
  child.stdout.on('data', (d: Buffer) => (full += d.toString()));
  return { child, exited, output: () => output, loggedAt: (msg) => seen.get(msg), lastAt: (msg) => last.get(msg), count: (msg) => full.split(`"msg":"${msg}"`).length - 1 };
}

function setup(keys: number) {
  const type = uniqueName('grp');
  const topic = outboxTopic(type);
  const schemaId = registry.store.register(outboxSubject(type), JSON.stringify(USER_CHANGED_V1));
  const wave = (from: number, to: number) => {
    const out = [];
    for (let v = from; v <= to; v++) {
      for (let k = 0; k < keys; k++) out.push(debeziumMessage({ aggregateId: `k${k}`, version: v, payload: framed(USER_CHANGED_V1, schemaId, { id: k, name: 'n', email: null, version: v }) }));
    }
    return out;
  };
  const groupId = uniqueName('sink');
  const keyPrefix = `${prefix}${type}:`;
  const env = (extra: Record<string, string> = {}) => ({
    KAFKA_BROKERS: inject('kafkaBrokers').join(','), KAFKA_TOPICS: topic, KAFKA_GROUP_ID: groupId, SCHEMA_REGISTRY_URL: registry.url, REDIS_URL: inject('redisUrl'),
    DLQ_TOPIC: uniqueName('dlq'), CACHE_KEY_PREFIX: keyPrefix, METRICS_PORT: '0', METRICS_HOST: '127.0.0.1', LOG_LEVEL: 'info', SINK_BATCH_SIZE: '50', ...extra,
  });
  const atVersion = async (version: number) => {
    const state = await cacheState(redis, keyPrefix);
    return state.size === keys && [...state.values()].every((v) => v.version === BigInt(version) && v.state === 'tombstone');
  };
  const committedAll = async () => {
    const [committed, ends] = await Promise.all([committedOffsets(admin, groupId, topic), endOffsets(admin, topic)]);
    return [...ends].every(([p, end]) => end === 0n || committed.get(p) === end);
  };
  return { topic, wave, env, atVersion, committedAll, state: () => cacheState(redis, keyPrefix) };
}

it('a sink restarted after SIGTERM resumes within seconds', async () => {
  const keys = 50;
  const s = setup(keys);
  // A long session: on a real broker, a member that did not leave would hold its partitions for 30 s.
  const env = s.env({ KAFKA_SESSION_TIMEOUT_MS: '30000' });
  await produceAll(producer, s.topic, s.wave(1, 1));
  const first = spawnSink(env);
  await waitUntil('the first sink applied and committed everything', async () => (await s.atVersion(1)) && (await s.committedAll()), 150_000)
    .catch((err: Error) => { throw new Error(`${err.message}\n${first.output()}`); });
  first.child.kill('SIGTERM');
  expect(await first.exited).toBe(0);
  await produceAll(producer, s.topic, s.wave(2, 2));
  const second = spawnSink(env);
  await waitUntil('the second sink started', () => second.loggedAt('sink started') !== undefined, 150_000)
    .catch((err: Error) => { throw new Error(`${err.message}\n${second.output()}`); });
  const started = second.loggedAt('sink started')!;
  await waitUntil('the restarted sink applied the new records', async () => (await s.atVersion(2)) && (await s.committedAll()), 60_000)
    .catch((err: Error) => { throw new Error(`${err.message}\n${second.output()}`); });
  const seconds = (performance.now() - started) / 1000;
  console.log(`restarted sink caught up ${seconds.toFixed(1)} s after it started`);
  // Well under the 30 s a member that did not leave would cost, with room for a loaded machine.
  expect(seconds).toBeLessThan(15);
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
}, 400_000);
