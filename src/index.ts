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
export { coalesceActions, type Coalesced } from './sink/coalesce.js';
export { createApplyStep, applyEvents, type ApplyStep, type ApplyStepOptions, type ApplyReport, type PoisonedEvent } from './sink/apply-step.js';
export { startSink, type SinkOptions, type RunningSink } from './sink/sink.js';
export { installRecordBatchDecoder, type RecordDecoderStatus } from './sink/kafkajs-record-decoder.js';
export { runSinkFromConfig, type RunSinkOptions } from './sink/from-config.js';
export { DEAD_LETTER_HEADERS, deadLetterMessage, type PoisonRecord } from './sink/dead-letter.js';
export { parseSinkConfig, SINK_SETTINGS, type SinkConfig } from './config/sink.js';
export { createLogger, type Logger, type LoggerOptions } from './ops/logger.js';
export { createSinkMetrics, type SinkMetrics } from './ops/metrics.js';
export { startOpsServer, type OpsServer, type OpsServerOptions } from './ops/http-server.js';
export { createRedisClient, kafkaClientConfig, type KafkaClientSettings, type RedisClientSettings } from './ops/clients.js';
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
export type { WriterSchema, DecodedValue, PayloadDecoder } from './codec/types.js';
export { encodeFrame, parseFrame, MAGIC_BYTE, FRAME_HEADER_LENGTH, MAX_SCHEMA_ID, type Frame } from './codec/framing.js';
export { AvroCodec, type AvroCodecOptions, type AvroDecodeOptions, type RegistryReader } from './codec/codec.js';
export { SchemaRegistryClient, RegistryError, type SchemaRegistryClientOptions, type RegisteredSchema } from './codec/registry-client.js';
export {
  parseAvroSchema, avroTypeName, schemaKey, invalidFields, isAvroLong, MAX_ZERO_BYTE_ITEMS,
  type AvroSchema, type AvroLong, type InvalidField,
} from './codec/avro-types.js';
export { InvalidValueError, CODEC_ERROR_CODES, type CodecErrorCode } from './codec/errors.js';
export {
  checkCompatibility, readProblem, isCompatibilityLevel, COMPATIBILITY_LEVELS, DEFAULT_COMPATIBILITY_LEVEL,
  type CompatibilityLevel, type CompatibilityResult,
} from './codec/compatibility.js';
export {
  CACHE_CHANGE_SCHEMA_NAME, CACHE_CHANGE_SCHEMA_V1, isCacheChange, type CacheChange, type CacheChangeOperation,
} from './codec/cache-change.js';
export { loadSchemaManifest, MANIFEST_FILE, type SchemaManifest, type LocalSubject, type LocalSchema } from './codec/schema-manifest.js';
export {
  startRelay, defaultReplicaServerId, createKafkaApply, createOutboxProducer, toOutboxRecord, rowToOutboxEvent,
  formatPosition, parsePosition, RelayError, runRelayFromConfig, parseRunConfig, RUN_SETTINGS,
  type Relay, type RelayApply, type RelayOptions, type RelayTuning, type RelayBatchInfo, type RelayStats, type BinlogPosition,
  type RelayLogger, type RunConfig, type RunRelayOptions,
} from './relay/index.js';
export { runDemo, type DemoOptions } from './demo/demo.js';
export type { DemoSummary, CacheSummary as DemoCacheSummary } from './demo/report.js';
export { runDemoWriter, type DemoWriterOptions, type DemoWriterResult } from './demo/writer.js';
export { LocalSchemaRegistry, LOCAL_SCHEMA_ID_BASE } from './demo/local-registry.js';
