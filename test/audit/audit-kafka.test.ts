/**
 * `outbox-cache audit` over the mock Kafka cluster and the real Redis: a stale entry seeded behind
 * the guard's back is found at every delay, never before its due time, and repaired through the
 * guard; a stream the sink applied audits clean and its offsets are committed once checked; a
 * 100,000-event backlog is audited with the scheduler held under its bound.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Producer } from 'kafkajs';
import { decodeStoredValue } from '../../src/cache/stored-value.js';
import { CACHE_CHANGE_SCHEMA_V1 } from '../../src/codec/cache-change.js';
import { outboxSubject, outboxTopic } from '../../src/outbox/event.js';
import { startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';
import { createTestKafka, createTestRedis, uniqueName, waitUntil } from '../helpers.js';
import { committedOffsets, debeziumProducer, endOffsets, produceAll, startTestSink, total } from '../sink/harness.js';
import { CACHE_CHANGE_ID, changeMessage, scrape, startTestAuditor } from './audit-helpers.js';

const { redis, prefix } = createTestRedis();
const kafka = createTestKafka();
const types = { stale: uniqueName('stale'), repair: uniqueName('repair'), clean: uniqueName('clean'), backlog: uniqueName('backlog') };
let registry: SchemaRegistryDouble;
let producer: Producer;
let admin: Admin;

beforeAll(async () => {
  registry = await startSchemaRegistryDouble({
    preload: Object.values(types).map((t) => ({ id: CACHE_CHANGE_ID, subject: outboxSubject(t), schema: CACHE_CHANGE_SCHEMA_V1 })),
  });
  producer = await debeziumProducer(kafka);
  admin = kafka.admin();
  await admin.connect();
});
afterAll(async () => {
  await Promise.allSettled([producer?.disconnect(), admin?.disconnect(), registry?.close()]);
  redis.disconnect();
});

const message = changeMessage;

const auditEnv = (type: string, extra: Record<string, string> = {}) => ({
  SCHEMA_REGISTRY_URL: registry.url, KAFKA_TOPICS: outboxTopic(type), CACHE_KEY_PREFIX: prefix, ...extra,
});

describe('outbox-cache audit', () => {
  it('finds a stale entry seeded behind the guard at every delay, no earlier than commit + delay, and reports its versions', async () => {
    const key = `${prefix}${types.stale}:1`;
    await redis.set(key, 'E1:old bytes');
    const report = join(tmpdir(), `${uniqueName('audit-report')}.json`);
    const auditor = await startTestAuditor(auditEnv(types.stale, { AUDIT_DELAYS: '300ms,1s,2s', AUDIT_REPORT: report }));
    const committedAt = Date.now();
    await produceAll(producer, outboxTopic(types.stale), [message(types.stale, '1', 2, committedAt, 'INVALIDATE')]);
    try {
      await waitUntil('checked at every delay', () => auditor.session.auditor.summary().delays.every((d) => d.checks === 1));
      for (const delay of ['300ms', '1s', '2s']) {
        expect(await scrape(auditor.port, `outbox_audit_checks_total{delay="${delay}",result="inconsistent"}`)).toBe(1);
      }
      expect(await scrape(auditor.port, 'outbox_audit_inconsistent_keys_total')).toBe(1);
      expect(await scrape(auditor.port, 'outbox_audit_nines{delay="1s"}')).toBe(0);
    } finally {
      await auditor.stop();
    }
    const written = JSON.parse(readFileSync(report, 'utf8')) as { inconsistent: { key: string; delayMs: number; checkedAtMs: number }[] };
    expect(written.inconsistent.map((i) => [i.key, i.delayMs])).toEqual([[key, 300], [key, 1000], [key, 2000]]);
    expect(written.inconsistent[0]).toMatchObject({ expectedVersion: '2', found: 'entry', foundVersion: '1', repaired: false });
    for (const i of written.inconsistent) expect(i.checkedAtMs).toBeGreaterThanOrEqual(committedAt + i.delayMs);
    // Read-only without --repair.
    expect((await redis.get(key))).toBe('E1:old bytes');
  });

  it('with --repair writes a tombstone at the event version through the guard; later delays then find it consistent', async () => {
    const stale = `${prefix}${types.repair}:1`;
    const newer = `${prefix}${types.repair}:2`;
    await redis.set(stale, 'E1:old bytes');
    await redis.set(newer, 'E1:old');
    const auditor = await startTestAuditor(auditEnv(types.repair, { AUDIT_DELAYS: '200ms,1500ms', AUDIT_REPAIR: 'true' }));
    try {
      await produceAll(producer, outboxTopic(types.repair), [message(types.repair, '1', 3, Date.now(), 'UPSERT')]);
      await waitUntil('both delays checked', () => auditor.session.auditor.summary().delays.every((d) => d.checks === 1));
      expect(decodeStoredValue(await redis.getBuffer(stale))).toMatchObject({ state: 'tombstone', version: 3n });
      expect(auditor.session.auditor.summary().delays.map((d) => d.inconsistent)).toEqual([1, 0]);
      expect(await scrape(auditor.port, 'outbox_audit_repairs_total{outcome="applied"}')).toBe(1);
      // All its checks due at once (an old commit), read once, repaired once: a key moved past the event is left alone.
      await redis.set(newer, 'E9:newer');
      await produceAll(producer, outboxTopic(types.repair), [message(types.repair, '2', 5, Date.now() - 60_000, 'DELETE')]);
      await waitUntil('old event checked', () => auditor.session.auditor.summary().delays.every((d) => d.checks === 2));
      expect(await redis.get(newer)).toBe('E9:newer');
      expect(auditor.session.auditor.recentInconsistencies()).toHaveLength(1);
      expect(auditor.session.auditor.recentInconsistencies()[0]).toMatchObject({ key: stale, repaired: true });
    } finally {
      await auditor.stop();
    }
  });

  it('audits a stream the sink applied with 0 inconsistencies and commits its offsets once the checks are done', async () => {
    const topic = outboxTopic(types.clean);
    const now = Date.now();
    const messages = Array.from({ length: 600 }, (_, i) => {
      const id = String(i % 60);
      const operation = i % 7 === 0 ? 'DELETE' : i % 5 === 0 ? 'INVALIDATE' : 'UPSERT';
      return message(types.clean, id, Math.floor(i / 60) + 1, now, operation);
    });
    await produceAll(producer, topic, messages);
    const sink = await startTestSink({
      kafka, redis, registryUrl: registry.url, topics: [topic], groupId: uniqueName('sink'), dlqTopic: uniqueName('dlq'), keyPrefix: prefix,
    });
    try {
      await waitUntil('sink applied everything', async () => (await total(sink.metrics.consumed)) >= messages.length);
    } finally {
      await sink.stop();
    }
    const groupId = uniqueName('audit');
    const auditor = await startTestAuditor(auditEnv(types.clean, { AUDIT_DELAYS: '500ms,1s', KAFKA_GROUP_ID: groupId }));
    try {
      await waitUntil('every event checked at both delays', () => auditor.session.auditor.summary().delays.every((d) => d.checks === messages.length));
      const summary = auditor.session.auditor.summary();
      expect(summary.delays.map((d) => d.inconsistent)).toEqual([0, 0]);
      expect(summary.inconsistentKeys).toBe(0);
      expect(await scrape(auditor.port, 'outbox_audit_consistent_ratio{delay="1s"}')).toBe(1);
      expect(await scrape(auditor.port, 'outbox_audit_nines{delay="500ms"}')).toBeCloseTo(Math.log10(messages.length));
      const ends = await endOffsets(admin, topic);
      await waitUntil('offsets committed up to the end', async () => {
        const committed = await committedOffsets(admin, groupId, topic);
        return [...ends].every(([p, end]) => (committed.get(p) ?? -1n) === end || end === 0n);
      });
    } finally {
      await auditor.stop();
    }
  });

  it('started far behind a 100,000-event backlog, holds at most AUDIT_MAX_PENDING checks and counts the overdue ones as late', async () => {
    const topic = outboxTopic(types.backlog);
    const old = Date.now() - 3_600_000;
    const events = 100_000;
    const messages = Array.from({ length: events }, (_, i) => message(types.backlog, String(i % 5000), Math.floor(i / 5000) + 1, old + i, 'INVALIDATE'));
    await produceAll(producer, topic, messages, 2000);
    const auditor = await startTestAuditor(auditEnv(types.backlog, { AUDIT_DELAYS: '1s,10s,60s', AUDIT_MAX_PENDING: '1000' }));
    try {
      await waitUntil('every check done', () => auditor.session.auditor.summary().delays.every((d) => d.checks === events), 240_000);
      const summary = auditor.session.auditor.summary();
      // A record is submitted only while fewer than the bound are held; one record adds one check per delay.
      expect(summary.maxScheduled).toBeLessThanOrEqual(1000 - 1 + 3);
      expect(summary.maxScheduled).toBeGreaterThan(0);
      expect(summary.delays.map((d) => d.late)).toEqual([events, events, events]);
      expect(summary.delays.map((d) => d.inconsistent)).toEqual([0, 0, 0]);
      expect(summary.events).toBe(events);
    } finally {
      await auditor.stop();
    }
  }, 300_000);
});
