/**
 * `outbox-cache/ops`: what running the loop in production takes: an injected pino logger that
 * never logs payload bytes or secrets, the sink's Prometheus metrics, the HTTP server for
 * `/metrics`, `/healthz` and `/readyz`, and Redis and Kafka clients built from settings.
 */
export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export { createSinkMetrics, type SinkMetrics } from './metrics.js';
export { startOpsServer, type OpsServer, type OpsServerOptions } from './http-server.js';
export { createRedisClient, kafkaClientConfig, type KafkaClientSettings, type RedisClientSettings } from './clients.js';
