/**
 * `outbox-cache/relay`: the built-in binlog relay (single node, no Kafka Connect): tails the
 * outbox table in the MySQL or MariaDB binlog and produces the events to Kafka, or applies them to
 * Redis directly. `outbox-cache run` is the CLI over `runRelayFromConfig`.
 */
export { startRelay, defaultReplicaServerId, type Relay, type RelayApply, type RelayOptions } from './relay.js';
export type { RelayBatchInfo, RelayState, RelayStats, RelayTuning } from './relay-loop.js';
export { createKafkaApply, createOutboxProducer, toOutboxRecord, DEFAULT_MAX_REQUEST_BYTES, type KafkaApplyOptions } from './kafka-producer.js';
export { formatPosition, parsePosition, type BinlogPosition } from './position.js';
export { RelayError } from './errors.js';
export type { RelayLogger } from './logger.js';
export { rowToOutboxEvent } from './outbox-row.js';
export { runRelayFromConfig, type RunRelayOptions } from './from-config.js';
export { parseRunConfig, RUN_SETTINGS, type RunConfig } from './run-config.js';
export { createRelayMetrics, type RelayMetrics } from './metrics.js';
