/**
 * Assembles `outbox-cache audit` from a validated {@link AuditConfig}: Kafka, Schema Registry and
 * Redis clients from the sink's settings, the sink's mapping, the ops server, the session and the
 * consumer. Also the library call for applications that run the auditor in-process.
 */
import { Kafka } from 'kafkajs';
import { AvroCodec } from '../codec/codec.js';
import { SchemaRegistryClient } from '../codec/registry-client.js';
import { createRedisClient, kafkaClientConfig } from '../ops/clients.js';
import { startOpsServer } from '../ops/http-server.js';
import { createLogger, type Logger } from '../ops/logger.js';
import { loadMappingModule } from '../sink/mapping-loader.js';
import { createRouting } from '../sink/routing.js';
import { startAuditConsumer } from './consumer.js';
import { createKeyMapper } from './keys.js';
import { startAuditSession, type AuditSession } from './session.js';
import { auditTopics, type AuditConfig } from './settings.js';

/** Options of {@link runAuditFromConfig}. */
export interface RunAuditOptions {
  /** Aborting stops the auditor gracefully (final summary, report); the returned promise then resolves. */
  readonly signal: AbortSignal;
  /** Default: a pino logger at the configured level on stdout. */
  readonly logger?: Logger;
  /** Told the ops server's port once it listens (useful with METRICS_PORT=0). */
  readonly onListening?: (port: number) => void;
  /** Told the session once it runs (tests and embedding applications read its figures). */
  readonly onStarted?: (session: AuditSession) => void;
}

/** Runs the auditor until `signal` aborts (resolves) or its consumer fails fatally (rejects). */
export async function runAuditFromConfig(config: AuditConfig, options: RunAuditOptions): Promise<void> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, name: 'outbox-cache-audit' });
  const mappings = config.mappingModule ? await loadMappingModule(config.mappingModule) : undefined;
  const redis = createRedisClient(config);
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection error'));
  const session = startAuditSession({ config, redis, ttl: config, logger, retryMaxDelayMs: config.retryMaxDelayMs });
  const registry = new SchemaRegistryClient({
    url: config.registryUrl,
    auth: config.registryUser && config.registryPassword ? { username: config.registryUser, password: config.registryPassword } : undefined,
  });
  const keys = createKeyMapper(new AvroCodec({ registry }), { keyPrefix: config.keyPrefix, namespaces: config.namespaces, mappings }, config.subjectStrategy);
  let ready = (): boolean => false;
  let healthy = (): boolean => true;
  const ops = await startOpsServer({
    registry: session.metrics.registry, port: config.metricsPort, host: config.metricsHost, ready: () => ready(), healthy: () => healthy(),
  });
  options.onListening?.(ops.port);
  logger.info({ port: ops.port }, 'ops server listening (/metrics, /healthz, /readyz)');
  try {
    const consumer = await startAuditConsumer({
      kafka: new Kafka(kafkaClientConfig(config, logger)),
      groupId: config.groupId, topics: auditTopics(config), fromBeginning: config.fromBeginning,
      auditor: session.auditor, keys, routing: createRouting(config.routingPattern, config.subjectStrategy), logger, signal: options.signal,
      sessionTimeoutMs: config.sessionTimeoutMs, fetchMaxBytes: config.fetchMaxBytes, fetchMaxBytesPerPartition: config.fetchMaxBytesPerPartition,
      partitionConcurrency: config.concurrency, topicRefreshMs: config.topicRefreshMs, retry: { maxDelayMs: config.retryMaxDelayMs },
    });
    ready = () => consumer.joined() && consumer.healthy() && session.auditor.summary().redisOk && !options.signal.aborted;
    healthy = consumer.healthy;
    options.onStarted?.(session);
    await consumer.done;
  } finally {
    await session.stop();
    await ops.close();
    redis.disconnect();
  }
}
