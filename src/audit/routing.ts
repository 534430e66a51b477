/**
 * How the auditor routes a topic and decodes a payload: exactly as the sink does, through the
 * sink's own functions, so what is audited is what the sink writes. The only place the auditor
 * names the sink's routing; when routing becomes configurable, this file follows it.
 */
import { outboxSubject, type OutboxEvent } from '../outbox/event.js';
import { outboxRecordParser, type KafkaRecord, type ParsedRecord } from '../sink/record.js';

/** The sink's parser of one topic's records: outbox event, ignored record, or a thrown DecodeError. */
export function auditRecordParser(topic: string): (record: KafkaRecord) => ParsedRecord {
  return outboxRecordParser(topic);
}

/** The Schema Registry subject the sink decodes an event's payload under. */
export function payloadSubject(event: OutboxEvent): string {
  return outboxSubject(event.aggregateType);
}
