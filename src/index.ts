/**
 * outbox-cache: keeps Redis caches consistent with MySQL through a transactional outbox,
 * Debezium (or the built-in binlog relay), Kafka, and version-guarded Redis writes.
 */
export * from './errors.js';
export { retry, sleep, type RetryOptions } from './retry.js';
