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

/**
 * An apply function for {@link startRelay} that produces a batch (commit order kept per topic and
 * partition) and resolves once every broker acknowledged with acks=all. Errors are retriable unless
 * Kafka refused the records for good (e.g. MESSAGE_TOO_LARGE, authorisation); the relay then stops.
 * The producer must be connected; the caller owns it.
 */
export function createKafkaApply(producer: Producer, options: { readonly timeoutMs?: number } = {}): RelayApply {
  return async (events) => {
    const byTopic = new Map<string, Message[]>();
    for (const event of events) {
      const { topic, message } = toOutboxRecord(event);
      const messages = byTopic.get(topic);
      if (messages) messages.push(message);
      else byTopic.set(topic, [message]);
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    try {
      await producer.sendBatch({ topicMessages, acks: -1, timeout: options.timeoutMs ?? 30_000 });
    } catch (err) {
      const permanent = kafkaErrorTypes(err).find((type) => PERMANENT_TYPES.has(type));
      throw new RelayError(`producing ${events.length} outbox records failed: ${errorMessage(err)}`, {
        code: permanent ? `RELAY_KAFKA_${permanent}` : 'RELAY_KAFKA_UNAVAILABLE',
        retriable: permanent === undefined,
        cause: err,
      });
    }
  };
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
