/**
 * The relay's Kafka mode, for sites with Kafka but without Kafka Connect: each outbox event is
 * produced exactly as Debezium's outbox EventRouter produces it (DESIGN.md §3), so the sink cannot
 * tell the two apart: topic `outbox.event.<aggregatetype>`, key the UTF-8 aggregateid, value the
 * payload bytes unchanged, headers `id`, `type`, `version` (ASCII decimal) in that order, record
 * timestamp `occurred_at` in epoch ms, partition chosen by kafkajs' default (Java-compatible murmur2)
 * partitioner, acks from all in-sync replicas.
 */
import { Partitioners, type Kafka, type Message, type Producer, type ProducerConfig, type TopicMessages } from 'kafkajs';
import { errorMessage } from '../errors.js';
import { outboxTopic, type OutboxEvent } from '../outbox/event.js';
import { RelayError } from './errors.js';
import type { RelayApply } from './relay.js';

/** Kafka error types that retrying the same records cannot fix. */
const PERMANENT_TYPES = new Set([
  'MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_TOPIC_EXCEPTION', 'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED', 'INVALID_RECORD', 'INVALID_REQUIRED_ACKS', 'INVALID_TIMESTAMP',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT', 'UNSUPPORTED_VERSION', 'SASL_AUTHENTICATION_FAILED',
]);

/** The topic and record Debezium's EventRouter would produce for `event`. Pure. */
export function toOutboxRecord(event: OutboxEvent): { readonly topic: string; readonly message: Message } {
  return {
    topic: outboxTopic(event.aggregateType),
    message: {
      key: Buffer.from(event.aggregateId, 'utf8'),
      value: event.payload,
      // Insertion order is wire order: id, type, version, as EventRouter writes them.
      headers: {
        id: Buffer.from(event.id, 'utf8'),
        type: Buffer.from(event.type, 'utf8'),
        version: Buffer.from(event.version.toString(10), 'ascii'),
      },
      timestamp: String(event.occurredAtMs),
    },
  };
}

/**
 * A producer set up for the relay: the default (murmur2) partitioner, so a key lands on the
 * partition Debezium's Java producer would choose, and one request in flight, so kafkajs' own
 * retries cannot reorder a partition's records.
 */
export function createOutboxProducer(kafka: Kafka, config: ProducerConfig = {}): Producer {
  return kafka.producer({
    ...config,
    createPartitioner: Partitioners.DefaultPartitioner,
    maxInFlightRequests: 1,
    idempotent: false,
  });
}

/** Default byte budget of one produce request: Kafka's default `max.message.bytes` (1 MiB). */
export const DEFAULT_MAX_REQUEST_BYTES = 1_048_576;
/** Per-record framing allowance (record batch and record headers, varints, attributes), bytes. */
const RECORD_OVERHEAD = 80;
/** Per-batch framing allowance (record batch header), bytes. */
const BATCH_OVERHEAD = 120;
const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** Estimated bytes of a record on the wire (an upper bound for uncompressed batches). Pure. */
export function recordBytes(message: Message): number {
  let bytes = RECORD_OVERHEAD + byteLength(message.key) + byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) bytes += Buffer.byteLength(name) + byteLength(value as Buffer | string | undefined);
  return bytes;
}

function byteLength(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

/**
 * Cuts records (commit order) into consecutive runs whose estimated size stays under
 * `maxBytes`; a record larger than that on its own makes a run of its own. Pure.
 */
export function splitByBytes<T extends { readonly message: Message }>(records: readonly T[], maxBytes: number): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  let size = BATCH_OVERHEAD;
  for (const record of records) {
    const bytes = recordBytes(record.message);
    if (run.length > 0 && size + bytes > maxBytes) {
      runs.push(run);
      run = [];
      size = BATCH_OVERHEAD;
    }
    run.push(record);
    size += bytes;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/** Options of {@link createKafkaApply}. */
export interface KafkaApplyOptions {
  /** Deadline of one produce request, ms. Default 30,000. */
  readonly timeoutMs?: number;
  /**
   * Byte budget of one produce request: at most the smallest `max.message.bytes` of the outbox
   * topics (and the brokers' `message.max.bytes`). Default {@link DEFAULT_MAX_REQUEST_BYTES}.
   */
  readonly maxRequestBytes?: number;
}

/**
 * An apply function for {@link startRelay} that produces a batch (commit order kept per topic and
 * partition) and resolves once every broker acknowledged with acks=all. A batch is sent in
 * consecutive requests under `maxRequestBytes`; a request Kafka still refuses as too large is
 * halved and sent again, so only a single record larger than the topic allows stops the relay
 * (`RELAY_KAFKA_MESSAGE_TOO_LARGE`, naming the event). Other errors are retriable unless Kafka
 * refused the records for good (e.g. authorisation); the relay then stops. The producer must be
 * connected; the caller owns it.
 */
export function createKafkaApply(producer: Producer, options: KafkaApplyOptions = {}): RelayApply {
  const maxBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const send = async (records: readonly Produced[]): Promise<void> => {
    const byTopic = new Map<string, Message[]>();
    for (const { topic, message } of records) {
      const messages = byTopic.get(topic);
      if (messages) messages.push(message);
      else byTopic.set(topic, [message]);
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    try {
      await producer.sendBatch({ topicMessages, acks: -1, timeout: options.timeoutMs ?? 30_000 });
    } catch (err) {
      const types = kafkaErrorTypes(err);
      if (types.some((type) => TOO_LARGE.has(type)) && records.length > 1) {
        const half = Math.ceil(records.length / 2);
        await send(records.slice(0, half));
        await send(records.slice(half));
        return;
      }
      const permanent = types.find((type) => PERMANENT_TYPES.has(type));
      const which = records.length === 1 ? ` (event ${records[0]?.id}, ${recordBytes(records[0]!.message)} bytes)` : '';
      throw new RelayError(`producing ${records.length} outbox records failed${which}: ${errorMessage(err)}`, {
        code: permanent ? `RELAY_KAFKA_${permanent}` : 'RELAY_KAFKA_UNAVAILABLE',
        retriable: permanent === undefined,
        cause: err,
      });
    }
  };
  return async (events) => {
    const records = events.map((event) => ({ id: event.id, ...toOutboxRecord(event) }));
    for (const run of splitByBytes(records, maxBytes)) await send(run);
  };
}

interface Produced {
  readonly id: string;
  readonly topic: string;
  readonly message: Message;
}

/** Protocol error types anywhere in a kafkajs error (its causes and aggregated errors). */
function kafkaErrorTypes(err: unknown, depth = 0): string[] {
  if (typeof err !== 'object' || err === null || depth > 5) return [];
  const { type, cause, errors } = err as { type?: unknown; cause?: unknown; errors?: unknown };
  return [
    ...(typeof type === 'string' ? [type] : []),
    ...kafkaErrorTypes(cause, depth + 1),
    ...(Array.isArray(errors) ? errors.flatMap((e) => kafkaErrorTypes(e, depth + 1)) : []),
  ];
}
