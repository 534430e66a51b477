/**
 * Assembles a running sink from a validated {@link SinkConfig}: Kafka, Schema Registry and Redis
 * clients, the mapping, metrics and the ops server. Used by `outbox-cache sink`; also the library
 * call for applications that embed the sink.
 */
import { Kafka } from 'kafkajs';
import { RedisCacheWriter } from '../cache/redis-cache-writer.js';
import { AvroCodec } from '../codec/codec.js';
import { SchemaRegistryClient } from '../codec/registry-client.js';
import { subscriptionPattern, type SinkConfig } from '../config/sink.js';
import { createRedisClient, kafkaClientConfig } from '../ops/clients.js';
import { startOpsServer, type OpsServer } from '../ops/http-server.js';
import { createLogger, type Logger } from '../ops/logger.js';
import { createSinkMetrics, type SinkMetrics } from '../ops/metrics.js';
import { createApplyStep } from './apply-step.js';
import { loadMappingModule } from './mapping-loader.js';
import { createRouting } from './routing.js';
import { startSink } from './sink.js';

/** Options of {@link runSinkFromConfig}. */
export interface RunSinkOptions {
  /** Aborting stops the sink gracefully; the returned promise then resolves. */
  readonly signal: AbortSignal;
  /** Default: a pino logger at the configured level on stdout. */
  readonly logger?: Logger;
  /** Told the ops server's port once it listens (useful with METRICS_PORT=0). */
  readonly onListening?: (port: number) => void;
}

/**
 * Runs the sink until `signal` aborts (resolves after a clean shutdown) or it fails fatally
 * (rejects). Throws ConfigError before connecting anything when the mapping module is unusable.
 */
export async function runSinkFromConfig(config: SinkConfig, options: RunSinkOptions): Promise<void> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, name: 'outbox-cache-sink' });
  const mappings = config.mappingModule ? await loadMappingModule(config.mappingModule) : undefined;
  const metrics: SinkMetrics = createSinkMetrics();
  const redis = createRedisClient(config);
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection error'));
  let ops: OpsServer | undefined;
  // Every exit path, a failed start included, closes what was opened: a Redis client left
  // connected would keep the process alive after the error was reported.
  try {
    const writer = new RedisCacheWriter({
      redis, entryTtlMs: config.entryTtlMs, negativeTtlMs: config.negativeTtlMs, tombstoneTtlMs: config.tombstoneTtlMs,
    });
    const registry = new SchemaRegistryClient({
      url: config.registryUrl,
      auth: config.registryUser && config.registryPassword ? { username: config.registryUser, password: config.registryPassword } : undefined,
    });
    const step = createApplyStep({
      decoder: new AvroCodec({ registry }),
      writer,
      mapping: { keyPrefix: config.keyPrefix, namespaces: config.namespaces, mappings },
      subjectStrategy: config.subjectStrategy,
    });
    let ready = (): boolean => false;
    let healthy = (): boolean => true;
    ops = await startOpsServer({
      registry: metrics.registry, port: config.metricsPort, host: config.metricsHost, ready: () => ready(), healthy: () => healthy(),
    });
    options.onListening?.(ops.port);
    logger.info({ port: ops.port }, 'ops server listening (/metrics, /healthz, /readyz)');
    const sink = await startSink({
      kafka: new Kafka(kafkaClientConfig(config, logger)),
      groupId: config.groupId,
      topics: config.topics ?? [new RegExp(subscriptionPattern(config))],
      routing: createRouting(config.routingPattern, config.subjectStrategy),
      topicRefreshMs: config.topicRefreshMs,
      fromBeginning: config.fromBeginning,
      dlqTopic: config.dlqTopic,
      dlqMaxBytes: config.dlqMaxBytes,
      step,
      logger,
      metrics,
      signal: options.signal,
      partitionConcurrency: config.concurrency,
      chunkSize: config.batchSize,
      retry: { maxDelayMs: config.retryMaxDelayMs },
      sessionTimeoutMs: config.sessionTimeoutMs,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      rebalanceTimeoutMs: config.rebalanceTimeoutMs,
      fetchMaxBytes: config.fetchMaxBytes,
      fetchMaxBytesPerPartition: config.fetchMaxBytesPerPartition,
      recordDecoder: config.recordDecoder,
    });
    ready = sink.ready;
    healthy = sink.healthy;
    await sink.done;
  } finally {
    await ops?.close();
    redis.disconnect();
  }
}
