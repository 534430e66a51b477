/**
 * `outbox-cache/sink`: the Kafka → Redis sink (DESIGN.md §3–§4). Start it from a parsed
 * configuration (`runSinkFromConfig`, what `outbox-cache sink` runs) or from your own clients
 * (`startSink`); map outbox events to cache actions with `defineMappings`; the pure steps (record
 * parsing, mapping, coalescing, applying a batch) are exported for tests and custom consumers.
 */
export { startSink, type SinkOptions, type RunningSink } from './sink.js';
export { runSinkFromConfig, type RunSinkOptions } from './from-config.js';
export { parseSinkConfig, SINK_SETTINGS, type SinkConfig } from '../config/sink.js';
export {
  mapEvent, defaultActions, defineMappings,
  type AggregateMapping, type MappingModule, type MappingContext, type MappingOptions,
} from './mapping.js';
export { loadMappingModule } from './mapping-loader.js';
export { parseOutboxRecord, parseVersion, lastHeader, type KafkaRecord, type ParsedRecord } from './record.js';
export { coalesceActions, type Coalesced } from './coalesce.js';
export {
  createApplyStep, applyEvents, type ApplyStep, type ApplyStepOptions, type ApplyReport, type PoisonedEvent,
} from './apply-step.js';
export { DEAD_LETTER_HEADERS, deadLetterMessage, type PoisonRecord } from './dead-letter.js';
export { installRecordBatchDecoder, type RecordDecoderStatus } from './kafkajs-record-decoder.js';
export type { CacheAction, ApplyOutcome, CacheWriter } from '../cache/actions.js';
