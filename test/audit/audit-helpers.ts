/**
 * Shared pieces of the auditor's integration tests: cache-change records as Debezium writes them,
 * an auditor run through runAuditFromConfig (the command's own assembly) on this file's topics and
 * key prefix, and a reader of its /metrics.
 */
import avro from 'avsc';
import { inject } from 'vitest';
import type { Message } from 'kafkajs';
import { runAuditFromConfig } from '../../src/audit/from-config.js';
import type { AuditSession } from '../../src/audit/session.js';
import { parseAuditConfig } from '../../src/audit/settings.js';
import { CACHE_CHANGE_SCHEMA_V1 } from '../../src/codec/cache-change.js';
import { encodeFrame } from '../../src/codec/framing.js';
import { createLogger } from '../../src/ops/logger.js';
import { debeziumMessage } from '../sink/harness.js';
import { uniqueName, waitUntil } from '../helpers.js';

export const CACHE_CHANGE_ID = 301;
const cacheChange = avro.Type.forSchema(CACHE_CHANGE_SCHEMA_V1 as avro.Schema);

/** One cache-change record for `<entity>:<id>` at `version`, committed at `occurredAtMs`. */
export function changeMessage(entity: string, id: string, version: number, occurredAtMs: number, operation: 'UPSERT' | 'DELETE' | 'INVALIDATE' = 'UPSERT'): Message {
  const payload = encodeFrame(CACHE_CHANGE_ID, cacheChange.toBuffer({
    entity, id, version, operation, value: operation === 'UPSERT' ? Buffer.from(`v${version}`) : null, extraKeys: [], occurredAt: occurredAtMs,
  }));
  return debeziumMessage({ aggregateId: id, version, payload, type: 'CacheChange', occurredAtMs });
}

/** An auditor running in this process. */
export interface TestAuditor {
  readonly session: AuditSession;
  readonly port: number;
  /** Stops it (final summary, report) and waits until it has. */
  stop(): Promise<void>;
}

/** Starts `outbox-cache audit`'s assembly with `env` on top of this file's servers; resolves once it consumes. */
export async function startTestAuditor(env: Record<string, string>): Promise<TestAuditor> {
  const config = parseAuditConfig({
    KAFKA_BROKERS: inject('kafkaBrokers').join(','), REDIS_URL: inject('redisUrl'), KAFKA_GROUP_ID: uniqueName('audit'),
    KAFKA_SESSION_TIMEOUT_MS: '10000', METRICS_PORT: '0', AUDIT_SUMMARY_INTERVAL_MS: '0', ...env,
  });
  const controller = new AbortController();
  let session: AuditSession | undefined;
  let port = 0;
  const done = runAuditFromConfig(config, {
    signal: controller.signal, logger: createLogger({ level: 'silent' }),
    onListening: (p) => (port = p), onStarted: (s) => (session = s),
  });
  done.catch(() => {});
  await Promise.race([waitUntil('auditor started', () => session !== undefined), done.then(() => { throw new Error('auditor stopped'); })]);
  return {
    session: session!, port,
    async stop() {
      controller.abort();
      await done;
    },
  };
}

/** The value of one sample of the auditor's /metrics, e.g. `outbox_audit_checks_total{delay="1s",result="inconsistent"}`; 0 when absent. */
export async function scrape(port: number, sample: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}
