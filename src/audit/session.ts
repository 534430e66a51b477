/**
 * One auditor at work, shared by the standalone command and the embedded audit: the engine over
 * Redis (and the guard's writer when repair is on), its metrics, its check loop, the periodic
 * summary line, and on stop the final summary and the `--report` file.
 */
import type { Registry } from 'prom-client';
import type { CacheWriter } from '../cache/actions.js';
import type { GuardRedis } from '../cache/guard-scripts.js';
import { RedisCacheWriter } from '../cache/redis-cache-writer.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../ops/logger.js';
import { Auditor } from './auditor.js';
import { createAuditMetrics, type AuditMetrics } from './metrics.js';
import { RedisHeaderReader } from './redis-headers.js';
import { logSummary, writeReport } from './report.js';
import type { EmbeddedAuditConfig } from './settings.js';

/** What a session needs: the validated AUDIT_* settings, Redis, and the guard's TTLs for repairs. */
export interface AuditSessionOptions {
  readonly config: Omit<EmbeddedAuditConfig, 'delays'> & { readonly delays: readonly number[] };
  readonly redis: GuardRedis;
  readonly ttl: { readonly entryTtlMs?: number; readonly negativeTtlMs?: number; readonly tombstoneTtlMs?: number };
  readonly logger: Logger;
  /** Registry to add the metrics to (default: a new one with the process metrics). */
  readonly registry?: Registry;
  readonly retryMaxDelayMs?: number;
}

/** A running session. */
export interface AuditSession {
  readonly auditor: Auditor;
  readonly metrics: AuditMetrics;
  /** Stops the check loop, logs the final summary and writes the report; checks not done are dropped. */
  stop(): Promise<void>;
}

/** Starts the check loop and the summary timer. */
export function startAuditSession(options: AuditSessionOptions): AuditSession {
  const { config, logger } = options;
  const startedAt = Date.now();
  const metrics = createAuditMetrics(options.registry);
  const repair: CacheWriter | undefined = config.repair ? new RedisCacheWriter({ redis: options.redis, ...options.ttl }) : undefined;
  const auditor = new Auditor({
    delaysMs: config.delays, reader: new RedisHeaderReader(options.redis), repair, logger, metrics,
    sampleRate: config.sampleRate, maxPending: config.maxPending, lateAfterMs: config.lateAfterMs, windowMs: config.windowMs,
    recentLimit: config.recentLimit, retry: { maxDelayMs: options.retryMaxDelayMs ?? 10_000 },
  });
  const controller = new AbortController();
  const running = auditor.run(controller.signal).catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'audit loop failed'));
  const timer = config.summaryIntervalMs > 0 ? setInterval(() => logSummary(auditor, logger), config.summaryIntervalMs) : undefined;
  timer?.unref();
  logger.info({ delays: auditor.summary().delays.map((d) => d.delay), sampleRate: config.sampleRate, repair: config.repair }, 'auditing');
  return {
    auditor,
    metrics,
    async stop() {
      clearInterval(timer);
      controller.abort();
      await running;
      logSummary(auditor, logger);
      if (config.report) {
        await writeReport(config.report, auditor, startedAt).then(
          () => logger.info({ file: config.report }, 'audit report written'),
          (err: unknown) => logger.error({ file: config.report, err: errorMessage(err) }, 'could not write the audit report'),
        );
      }
    },
  };
}
