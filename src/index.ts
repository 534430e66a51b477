/**
 * outbox-cache: keeps Redis caches consistent with MySQL through a transactional outbox,
 * Debezium (or the built-in binlog relay), Kafka, and version-guarded Redis writes.
 *
 * The package root is what an application calls: publish an event inside its own transaction,
 * take versions under the row lock, read through the cache, and the errors these raise with their
 * codes. It loads neither Kafka, the binlog reader, the Avro library nor the metrics registry.
 * Every other part has its own entry point: `outbox-cache/outbox` (migrations, purge),
 * `outbox-cache/cache` (writer, guard, layout), `outbox-cache/codec`, `outbox-cache/sink`,
 * `outbox-cache/relay`, `outbox-cache/connect`, `outbox-cache/ops`, `outbox-cache/audit`,
 * `outbox-cache/lab`, `outbox-cache/operations`, `outbox-cache/orm` and `outbox-cache/orm/<orm>`,
 * `outbox-cache/demo`.
 */
export {
  OutboxCacheError, ConfigError, DecodeError, SchemaError, ScriptError, OutboxWriteError, MappingError, isRetriable,
  type ConfigProblem,
} from './errors.js';
export {
  OUTBOX_ERROR_CODES, CACHE_ERROR_CODES, CONFIG_ERROR_CODE, type OutboxErrorCode, type CacheErrorCode,
} from './error-codes.js';
export {
  publishEvent, withOutboxTransaction, assertInTransaction, type OutboxWriterOptions, type PublishFn,
} from './outbox/writer.js';
export { prepareOutboxEvent, InvalidOutboxEventError, type NewOutboxEvent, type OutboxEventProblem } from './outbox/validate.js';
export { updateWithVersion } from './outbox/version.js';
export { nextVersion, type NextVersionOptions } from './outbox/version-table.js';
export type { SqlExecutor } from './outbox/version.js';
export type { OutboxEvent } from './outbox/event.js';
export type { WriterSchema } from './codec/types.js';
export {
  createReadThrough,
  type ReadThrough, type ReadThroughOptions, type ReadPathOptions, type ReadOptions, type ReadResult, type Loaded, type FillOutcome,
} from './cache/read-through.js';
export { createLeaseReadThrough, type LeaseReadThrough, type LeaseReadThroughOptions } from './cache/lease-read-through.js';
export { ReadError } from './cache/read-errors.js';
export type { L1Options } from './cache/l1/l1-store.js';
export type { L1Stats } from './cache/l1/l1-read.js';
export type { CacheTtlOptions } from './cache/cache-ttl.js';
export type { ReadCodecName } from './cache/read-codec.js';
export type { GuardRedis } from './cache/guard-scripts.js';
