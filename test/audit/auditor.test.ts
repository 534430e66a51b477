/**
 * The auditor's engine without servers: a header reader over a Map stands in for Redis (the
 * Redis adapter is tested in the integration tests). Sampling, the bound on held checks, a read
 * outage retried without losing a check, and the done callbacks that drive offset commits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Auditor, type HeaderReader } from '../../src/audit/auditor.js';
import { createAuditMetrics } from '../../src/audit/metrics.js';
import { ScriptError } from '../../src/errors.js';
import { createLogger } from '../../src/ops/logger.js';
import { waitUntil } from '../helpers.js';

const logger = createLogger({ level: 'silent' });
const controllers: AbortController[] = [];
afterEach(() => {
  for (const c of controllers.splice(0)) c.abort();
});

class MapReader implements HeaderReader {
  readonly values = new Map<string, string>();
  failures = 0;
  reads = 0;
  async readHeaders(keys: readonly string[]): Promise<(Buffer | null)[]> {
    this.reads += 1;
    if (this.failures > 0) {
      this.failures -= 1;
      throw new ScriptError('connection lost', { code: 'REDIS_UNAVAILABLE', retriable: true });
    }
    return keys.map((k) => (this.values.has(k) ? Buffer.from(this.values.get(k)!) : null));
  }
}

function start(reader: HeaderReader, options: Partial<ConstructorParameters<typeof Auditor>[0]> = {}): Auditor {
  const auditor = new Auditor({ delaysMs: [20, 50], reader, logger, retry: { initialDelayMs: 5, maxDelayMs: 20 }, tickMs: 5, ...options });
  const controller = new AbortController();
  controllers.push(controller);
  void auditor.run(controller.signal);
  return auditor;
}

describe('Auditor', () => {
  it('audits the sampled fraction of events and calls back once per finished check', async () => {
    const reader = new MapReader();
    let coin = 0;
    const auditor = start(reader, { sampleRate: 0.5, random: () => (coin++ % 2 === 0 ? 0.1 : 0.9) });
    let done = 0;
    const scheduled = Array.from({ length: 10 }, (_, i) => auditor.submit([{ key: `k${i}`, version: 1n }], Date.now(), () => (done += 1)));
    expect(scheduled).toEqual([2, 0, 2, 0, 2, 0, 2, 0, 2, 0]);
    await waitUntil('checks done', () => done === 10);
    expect(auditor.summary().delays.map((d) => d.checks)).toEqual([5, 5]);
  });

  it('retries a failed read until it succeeds, unready meanwhile, without losing or repeating a check', async () => {
    const reader = new MapReader();
    reader.values.set('stale', 'E1:x');
    // Failing until the test has seen the auditor unready (a fixed number of failures can be
    // retried away between two looks).
    reader.failures = Number.MAX_SAFE_INTEGER;
    const metrics = createAuditMetrics();
    const auditor = start(reader, { metrics });
    auditor.submit([{ key: 'stale', version: 2n }, { key: 'fresh', version: 2n }], Date.now() - 1000);
    await waitUntil('read failing', () => !auditor.summary().redisOk && auditor.summary().readErrors >= 2);
    expect(auditor.summary().delays.map((d) => d.checks)).toEqual([0, 0]);
    reader.failures = 0;
    await waitUntil('checks done', () => auditor.summary().delays.every((d) => d.checks === 2));
    expect(auditor.summary()).toMatchObject({ redisOk: true, inconsistentKeys: 1 });
    expect(auditor.summary().delays.map((d) => d.inconsistent)).toEqual([1, 1]);
    const errors = auditor.summary().readErrors;
    expect(errors).toBeGreaterThanOrEqual(2);
    expect(await metrics.registry.getSingleMetricAsString('outbox_audit_read_errors_total')).toContain(`outbox_audit_read_errors_total ${errors}`);
  });

  it('has no room once the bound is reached, and room again as checks finish', async () => {
    const reader = new MapReader();
    const auditor = start(reader, { maxPending: 4, delaysMs: [200] });
    for (let i = 0; i < 4; i++) auditor.submit([{ key: `k${i}`, version: 1n }], Date.now());
    expect(auditor.hasRoom()).toBe(false);
    const controller = new AbortController();
    controllers.push(controller);
    await auditor.waitForRoom(controller.signal, 5_000);
    expect(auditor.hasRoom()).toBe(true);
    expect(auditor.summary().maxScheduled).toBe(4);
  });
});
