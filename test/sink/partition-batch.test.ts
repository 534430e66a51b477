/**
 * processBatch with a scripted kafkajs payload: offsets are resolved and committed only after the
 * chunk was applied and its poison dead-lettered; outages are retried; shutdown commits nothing.
 */
import { describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import { OutboxCacheError, ScriptError } from '../../src/errors.js';
import { createLogger } from '../../src/ops/logger.js';
import type { OutboxEvent } from '../../src/outbox/event.js';
import type { ApplyReport, ApplyStep } from '../../src/sink/apply-step.js';
import type { PoisonRecord } from '../../src/sink/dead-letter.js';
import { processBatch, type BatchPayload } from '../../src/sink/partition-batch.js';

function message(offset: number, version: string | undefined = String(offset + 1)): KafkaMessage {
  const headers: Record<string, Buffer> = { id: Buffer.from(`e${offset}`), type: Buffer.from('T') };
  if (version !== undefined) headers.version = Buffer.from(version);
  return { offset: String(offset), key: Buffer.from('k'), value: Buffer.from([0]), timestamp: '1', attributes: 0, headers } as KafkaMessage;
}

function payload(messages: KafkaMessage[], log: string[]): BatchPayload {
  return {
    batch: { topic: 'outbox.event.user', partition: 3, messages },
    resolveOffset: (offset) => void log.push(`resolve ${offset}`),
    commitOffsetsIfNecessary: async (offsets) => void log.push(`commit ${offsets?.topics[0]?.partitions[0]?.offset}`),
    heartbeat: async () => {},
    isRunning: () => true,
    isStale: () => false,
  };
}

const report = (events: readonly OutboxEvent[]): ApplyReport => ({ applied: events.length, stale: 0, poisoned: [], actionsSent: events.length });
const logger = createLogger({ level: 'silent' });

describe('processBatch', () => {
  it('dead-letters poison, retries an unavailable dead-letter topic, then commits past it', async () => {
    const log: string[] = [];
    let dlqFailures = 2;
    const step: ApplyStep = async (events) => (log.push(`apply ${events.map((e) => e.version).join(',')}`), report(events));
    const deadLetter = async (records: readonly PoisonRecord[]) => {
      if (dlqFailures-- > 0) throw new OutboxCacheError('dlq down', { code: 'DLQ_UNAVAILABLE', retriable: true });
      log.push(`dlq ${records.map((r) => `${r.offset}:${r.code}`).join(',')}`);
    };
    const paused: boolean[] = [];
    await processBatch(payload([message(10), message(11, 'x'), message(12), message(13)], log), {
      step, deadLetter, logger, signal: new AbortController().signal, chunkSize: 2, retry: { initialDelayMs: 1, maxDelayMs: 2 },
      onPaused: (p) => paused.push(p),
    });
    expect(log).toEqual(['apply 11', 'dlq 11:RECORD_BAD_VERSION', 'resolve 11', 'apply 13,14', 'resolve 13', 'commit 14']);
    expect(paused).toEqual([true, false]);
  });

  it('commits nothing of a chunk abandoned on shutdown while Redis is down', async () => {
    const log: string[] = [];
    const controller = new AbortController();
    let calls = 0;
    const step: ApplyStep = async () => {
      if (++calls === 3) controller.abort();
      throw new ScriptError('redis down', { code: 'REDIS_UNAVAILABLE', retriable: true });
    };
    await processBatch(payload([message(0), message(1)], log), {
      step, deadLetter: async () => {}, logger, signal: controller.signal, chunkSize: 10, retry: { initialDelayMs: 1, maxDelayMs: 2 },
    });
    expect(calls).toBe(3);
    expect(log).toEqual([]);
  });

  it('leaves a batch that waits on an outage when its heartbeat says the group is rebalancing', async () => {
    const log: string[] = [];
    let beats = 0;
    const rebalancing = Object.assign(new Error('The group is rebalancing, so a rejoin is needed'), { type: 'REBALANCE_IN_PROGRESS' });
    const step: ApplyStep = async () => {
      throw new ScriptError('MISCONF', { code: 'REDIS_REFUSED', retriable: true });
    };
    const outage = processBatch({ ...payload([message(0), message(1)], log), heartbeat: async () => {
      if (++beats >= 3) throw rebalancing;
    } }, {
      step, deadLetter: async () => {}, logger, signal: new AbortController().signal, chunkSize: 10, retry: { initialDelayMs: 5, maxDelayMs: 20 },
      heartbeatIntervalMs: 5,
    });
    // Without the check it retries forever (the test then times out).
    await outage;
    expect(beats).toBeGreaterThanOrEqual(3);
    expect(log).toEqual([]);
  });
});
