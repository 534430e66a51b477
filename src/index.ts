/**
 * outbox-cache: keeps Redis caches consistent with MySQL through a transactional outbox,
 * Debezium (or the built-in binlog relay), Kafka, and version-guarded Redis writes.
 */
export * from './errors.js';
export { retry, sleep, type RetryOptions } from './retry.js';
export { parseOutboxRecord, parseVersion, lastHeader, type KafkaRecord, type ParsedRecord } from './sink/record.js';
export {
  mapEvent, defaultActions, defineMappings,
  type AggregateMapping, type MappingModule, type MappingContext, type MappingOptions,
} from './sink/mapping.js';
export { loadMappingModule } from './sink/mapping-loader.js';
export { coalesceActions, type CoalescedAction } from './sink/coalesce.js';
export { createApplyStep, applyEvents, type ApplyStep, type ApplyStepOptions, type ApplyReport, type PoisonedEvent } from './sink/apply-step.js';
export {
  publishEvent, withOutboxTransaction, assertInTransaction, isRetriableSqlError,
  type OutboxWriterOptions, type PublishFn,
} from './outbox/writer.js';
export { prepareOutboxEvent, InvalidOutboxEventError, OUTBOX_LIMITS, type NewOutboxEvent, type OutboxEventProblem } from './outbox/validate.js';
export { updateWithVersion } from './outbox/version.js';
export { migrateOutbox, type MigrateResult } from './outbox/migrate.js';
export { purgeOutbox, type PurgeOptions, type PurgeResult } from './outbox/purge.js';
export { DEFAULT_OUTBOX_TABLE } from './outbox/sql.js';
export {
  RedisCacheWriter, createReadThrough, createLeaseReadThrough, CACHE_TTL_DEFAULTS, applyGuard,
  decodeStoredValue, encodeStoredValue,
  type RedisCacheWriterOptions, type ReadThrough, type ReadThroughOptions, type ReadOptions, type ReadResult,
  type Loaded, type FillOutcome, type LeaseReadThrough, type LeaseReadThroughOptions, type CacheTtlOptions,
  type GuardOp, type StoredValue, type StoredState,
} from './cache/index.js';
export type { CacheAction, ApplyOutcome, CacheWriter } from './cache/actions.js';
export {
  KafkaConnectClient, ConnectRestError, type KafkaConnectClientOptions, type PutOutcome,
} from './connect/rest-client.js';
export {
  applyConnector, waitUntilRunning, sameConfig,
  type ApplyOptions, type ApplyResult, type ConfigChange, type WaitOutcome,
} from './connect/apply.js';
export {
  parseConnectorFile, resolveConnector, connectorPlaceholders, envPlaceholders,
  type ConnectorSpec, type EnvPlaceholder,
} from './connect/connector-file.js';
export {
  parseConnectorStatus, assessStatus, describeStatus, failuresOf, formatFailure, traceCauses,
  type ConnectorStatus, type StatusVerdict, type Failure as ConnectorFailure, type StateEntry as ConnectorStateEntry,
  type ConnectState,
} from './connect/status.js';
