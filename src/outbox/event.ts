/**
 * One outbox event as it leaves MySQL (DESIGN.md §2–§3), whether it arrives as a Kafka record
 * produced by Debezium's EventRouter or straight from the binlog through the built-in relay.
 */
export interface OutboxEvent {
  /** Event id (UUID text); Kafka header `id`. */
  readonly id: string;
  /** `[A-Za-z0-9_]+`; the topic is `outbox.event.<aggregateType>`. */
  readonly aggregateType: string;
  /** Kafka record key (UTF-8). */
  readonly aggregateId: string;
  /** Event type; Kafka header `type`. */
  readonly type: string;
  /** Aggregate version, strictly increasing per aggregate in commit order; header `version`. */
  readonly version: bigint;
  /** `occurred_at` in epoch milliseconds (UTC); the Kafka record timestamp. */
  readonly occurredAtMs: number;
  /** Confluent-framed Avro bytes: 0x00, 4-byte big-endian schema id, Avro binary. */
  readonly payload: Buffer;
}

/** Kafka topic of an aggregate type's events. */
export function outboxTopic(aggregateType: string): string {
  return `outbox.event.${aggregateType}`;
}

/** Schema Registry subject of an aggregate type's event values (TopicNameStrategy). */
export function outboxSubject(aggregateType: string): string {
  return `${outboxTopic(aggregateType)}-value`;
}

/** Pattern every aggregate type must match: it becomes part of a topic and an Avro name. */
export const AGGREGATE_TYPE_PATTERN = /^[A-Za-z0-9_]+$/;
