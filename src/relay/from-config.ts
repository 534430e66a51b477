/**
 * Assembles a running relay from a validated {@link RunConfig}: the MySQL pool and binlog
 * connection, and either the sink's decode + map + coalesce + apply step over Redis (redis mode)
 * or a Kafka producer (kafka mode). Used by `outbox-cache run`; also the library call for
 * applications and tools (the demo, benchmarks) that embed the relay.
 */
import { Kafka } from 'kafkajs';
import { createPool } from 'mysql2/promise';
import { RedisCacheWriter } from '../cache/redis-cache-writer.js';
import { AvroCodec } from '../codec/codec.js';
import { SchemaRegistryClient } from '../codec/registry-client.js';
import { createRedisClient, kafkaClientConfig } from '../ops/clients.js';
import { createLogger, type Logger } from '../ops/logger.js';
import { createApplyStep } from '../sink/apply-step.js';
import { loadMappingModule } from '../sink/mapping-loader.js';
import { createKafkaApply, createOutboxProducer } from './kafka-producer.js';
import { parsePosition } from './position.js';
import type { RelayTuning } from './relay-loop.js';
import { startRelay, type Relay, type RelayApply } from './relay.js';
import type { RunConfig } from './run-config.js';

/** Options of {@link runRelayFromConfig}. */
export interface RunRelayOptions {
  /** Aborting stops the relay gracefully; the returned promise then resolves. */
  readonly signal: AbortSignal;
  /** Default: a pino logger at the configured level on stdout. */
  readonly logger?: Logger;
  /** Called once the binlog stream is open (e.g. to start writers that must not be missed). */
  readonly onStarted?: (relay: Relay) => void;
  /** Called after each batch was applied, with its events (e.g. the embedded audit). */
  readonly onBatchApplied?: RelayTuning['onBatchApplied'];
}

type Cleanup = () => Promise<void>;

/**
 * Runs the relay until `signal` aborts (resolves after a clean stop) or it fails (rejects). Every
 * client it opened is closed before it settles.
 */
export async function runRelayFromConfig(config: RunConfig, options: RunRelayOptions): Promise<void> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, name: 'outbox-cache-relay' });
  const url = new URL(config.mysqlUrl);
  url.protocol = 'mysql:';
  const database = decodeURIComponent(url.pathname.slice(1));
  const cleanups: Cleanup[] = [];
  try {
    const pool = createPool({ uri: url.toString(), connectionLimit: 4, timezone: 'Z', supportBigNumbers: true, connectTimeout: 10_000 });
    cleanups.push(() => pool.end());
    const apply = config.mode === 'kafka' ? await kafkaApply(config, logger, cleanups) : await redisApply(config, logger, cleanups);
    const relay = await startRelay({
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
      apply,
      onBatchApplied: options.onBatchApplied,
      signal: options.signal,
      logger,
    });
    options.onStarted?.(relay);
    await relay.done;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
}

/** Redis mode: the sink's shared step; events that can never apply are logged and skipped (no dead-letter topic here). */
async function redisApply(config: RunConfig, logger: Logger, cleanups: Cleanup[]): Promise<RelayApply> {
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
  });
  return async (events) => {
    const report = await step(events);
    for (const { event, error } of report.poisoned) {
      logger.error({ id: event.id, aggregateType: event.aggregateType, version: event.version.toString(), code: error.code },
        `event skipped: ${error.message}`);
    }
    return report;
  };
}

/** Kafka mode: a connected producer partitioning like Debezium's Java producer. */
async function kafkaApply(config: RunConfig, logger: Logger, cleanups: Cleanup[]): Promise<RelayApply> {
  const kafka = new Kafka(kafkaClientConfig({ ...config, brokers: config.brokers ?? [] }, logger));
  const producer = createOutboxProducer(kafka);
  await producer.connect();
  cleanups.push(() => producer.disconnect());
  return createKafkaApply(producer);
}
