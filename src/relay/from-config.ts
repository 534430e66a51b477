/**
 * Assembles a running relay from a validated {@link RunConfig}: the MySQL pool and binlog
 * connection, either the sink's decode + map + coalesce + apply step over Redis (redis mode) or a
 * Kafka producer (kafka mode), and the ops server (`/metrics`, `/healthz`, `/readyz`). Used by
 * `outbox-cache run`; also the library call for applications and tools that embed the relay.
 */
import { Kafka } from 'kafkajs';
import { createPool } from 'mysql2/promise';
import { RedisCacheWriter } from '../cache/redis-cache-writer.js';
import { AvroCodec } from '../codec/codec.js';
import { SchemaRegistryClient } from '../codec/registry-client.js';
import { isRetriable } from '../errors.js';
import { createRedisClient, kafkaClientConfig } from '../ops/clients.js';
import { startOpsServer } from '../ops/http-server.js';
import { createLogger, type Logger } from '../ops/logger.js';
import { createApplyStep, type ApplyReport } from '../sink/apply-step.js';
import { loadMappingModule } from '../sink/mapping-loader.js';
import { createKafkaApply, createOutboxProducer } from './kafka-producer.js';
import { createRelayMetrics, type RelayMetrics } from './metrics.js';
import { parsePosition } from './position.js';
import { startRelay, type Relay, type RelayApply, type RelayOptions } from './relay.js';
import type { RunConfig } from './run-config.js';

/** Options of {@link runRelayFromConfig}. */
export interface RunRelayOptions {
  /** Aborting stops the relay gracefully; the returned promise then resolves. */
  readonly signal: AbortSignal;
  /** Default: a pino logger at the configured level on stdout. */
  readonly logger?: Logger;
  /** Called once the binlog stream is open (e.g. to start writers that must not be missed). */
  readonly onStarted?: (relay: Relay) => void;
  /** The relay's metrics, e.g. on a registry an embedded auditor adds its own to. Default: new ones. */
  readonly metrics?: RelayMetrics;
  /** Called once the ops server listens, with its port (useful with METRICS_PORT=0). */
  readonly onListening?: (port: number) => void;
  /** Passed to the relay: called after each applied batch (e.g. an embedded auditor). */
  readonly onBatchApplied?: RelayOptions['onBatchApplied'];
}

type Cleanup = () => Promise<void>;

/** Longest the clean-up of one client may take on a stop (a frozen connection never answers), ms. */
const CLEANUP_BUDGET_MS = 1_000;

/**
 * Runs the relay until `signal` aborts (resolves after a clean stop) or it fails (rejects). Every
 * client it opened is closed (or abandoned after a short deadline) before it settles.
 */
export async function runRelayFromConfig(config: RunConfig, options: RunRelayOptions): Promise<void> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, name: 'outbox-cache-relay' });
  const url = new URL(config.mysqlUrl);
  url.protocol = 'mysql:';
  const database = decodeURIComponent(url.pathname.slice(1));
  const metrics = options.metrics ?? createRelayMetrics();
  let relay: Relay | undefined;
  const cleanups: Cleanup[] = [];
  try {
    const ops = await startOpsServer({
      registry: metrics.registry, port: config.metricsPort, host: config.metricsHost,
      ready: () => relay?.stats().state === 'streaming',
      healthy: () => relay?.stats().state !== 'stopped',
    });
    cleanups.push(() => ops.close());
    options.onListening?.(ops.port);
    logger.info({ port: ops.port }, 'ops server listening (/metrics, /healthz, /readyz)');
    const pool = createPool({ uri: url.toString(), connectionLimit: 4, timezone: 'Z', supportBigNumbers: true, connectTimeout: 10_000 });
    // pool.end() waits for each connection to say goodbye, which a frozen one never does: after the
    // clean-up budget, what is still open is destroyed so that the process can exit.
    const connections = new Set<{ destroy(): void }>();
    pool.on('connection', (conn) => void connections.add(conn));
    cleanups.push(async () => {
      await bounded(pool.end());
      for (const conn of connections) conn.destroy();
    });
    const apply = config.mode === 'kafka' ? await kafkaApply(config, logger, metrics, cleanups) : await redisApply(config, logger, metrics, cleanups);
    relay = await startRelay({
      pool,
      connection: { uri: url.toString(), connectTimeout: 10_000 },
      database,
      table: config.table,
      relayName: config.relayName,
      positionTable: config.positionTable,
      serverId: config.serverId,
      startAt: config.startPosition ? parsePosition(config.startPosition) : undefined,
      maxBatchEvents: config.batchSize,
      maxQueuedEvents: config.maxQueuedEvents,
      checkpointIntervalMs: config.checkpointIntervalMs,
      retryDelays: { maxDelayMs: config.retryMaxDelayMs },
      heartbeatMs: config.heartbeatMs,
      lockCheckIntervalMs: config.lockCheckIntervalMs,
      queryTimeoutMs: config.queryTimeoutMs,
      onBatchApplied: options.onBatchApplied,
      apply,
      signal: options.signal,
      logger,
    });
    metrics.observe(relay);
    options.onStarted?.(relay);
    await relay.done;
  } finally {
    for (const cleanup of cleanups.reverse()) await bounded(cleanup());
  }
}

/** Waits for a clean-up at most {@link CLEANUP_BUDGET_MS}; never rejects. */
async function bounded(promise: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, CLEANUP_BUDGET_MS)))]);
  clearTimeout(timer);
}

/** Counts an apply call in the metrics: its duration on success, a retry on an outage. */
function measured<T>(metrics: RelayMetrics, apply: (events: Parameters<RelayApply>[0]) => Promise<T>): (events: Parameters<RelayApply>[0]) => Promise<T> {
  return async (events) => {
    const end = metrics.batchApplySeconds.startTimer();
    try {
      const result = await apply(events);
      end();
      metrics.batches.inc();
      return result;
    } catch (err) {
      if (isRetriable(err)) metrics.retries.inc();
      throw err;
    }
  };
}

/**
 * Redis mode: the sink's shared step. Any error that is not the event's own (Redis refusing
 * writes for a server reason such as MISCONF or NOAUTH, an outage, an unknown error) rejects the
 * batch, and the relay pauses and retries it without storing its position. An event that can
 * never apply (bad payload, mapping error, its key holding a foreign Redis type) is logged with
 * its id and key, never its payload, counted and skipped: there is no dead-letter topic here.
 */
async function redisApply(config: RunConfig, logger: Logger, metrics: RelayMetrics, cleanups: Cleanup[]): Promise<RelayApply> {
  const mappings = config.mappingModule ? await loadMappingModule(config.mappingModule) : undefined;
  const redis = createRedisClient({ ...config, redisUrl: config.redisUrl ?? [] });
  cleanups.push(async () => void redis.disconnect());
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection error'));
  const step = createApplyStep({
    decoder: new AvroCodec({
      registry: new SchemaRegistryClient({
        url: config.registryUrl ?? '',
        auth: config.registryUser && config.registryPassword ? { username: config.registryUser, password: config.registryPassword } : undefined,
      }),
    }),
    writer: new RedisCacheWriter({ redis, entryTtlMs: config.entryTtlMs, negativeTtlMs: config.negativeTtlMs, tombstoneTtlMs: config.tombstoneTtlMs }),
    mapping: { keyPrefix: config.keyPrefix, namespaces: config.namespaces, mappings },
    subjectStrategy: config.subjectStrategy,
  });
  return measured(metrics, async (events): Promise<ApplyReport> => {
    const report = await step(events);
    metrics.applied.inc(report.applied);
    metrics.stale.inc(report.stale);
    for (const { event, error } of report.poisoned) {
      metrics.skipped.inc({ code: error.code });
      logger.error({
        id: event.id, aggregateType: event.aggregateType, aggregateId: event.aggregateId, version: event.version.toString(), code: error.code,
      }, `event skipped: ${error.message}`);
    }
    return report;
  });
}

/** Kafka mode: a connected producer partitioning like Debezium's Java producer. */
async function kafkaApply(config: RunConfig, logger: Logger, metrics: RelayMetrics, cleanups: Cleanup[]): Promise<RelayApply> {
  const kafka = new Kafka(kafkaClientConfig({ ...config, brokers: config.brokers ?? [] }, logger));
  const producer = createOutboxProducer(kafka);
  await producer.connect();
  cleanups.push(() => producer.disconnect());
  const produce = createKafkaApply(producer, { maxRequestBytes: config.kafkaMaxMessageBytes });
  return measured(metrics, async (events) => {
    await produce(events);
    metrics.applied.inc(events.length);
  });
}
