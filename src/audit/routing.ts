/**
 * How the auditor routes a topic and names a payload's subject: exactly as the sink does, through
 * the sink's own routing (src/sink/routing.ts: ROUTING_TOPIC_PATTERN, SCHEMA_SUBJECT_STRATEGY), so
 * what is audited is what the sink writes. The only place the auditor touches routing.
 */
import { outboxTopic, type OutboxEvent } from '../outbox/event.js';
import { outboxRecordParser, type KafkaRecord, type ParsedRecord } from '../sink/record.js';
import { subjectRule, type Routing, type SubjectNameStrategy, type SubjectRule } from '../sink/routing.js';

/** The sink's parser of one topic's records under `routing`: outbox event, ignored record, or a thrown DecodeError. */
export function auditRecordParser(topic: string, routing?: Routing): (record: KafkaRecord) => ParsedRecord {
  return outboxRecordParser(topic, routing);
}

/**
 * The subject the sink decodes an event's payload under: named after the record's topic, or, for
 * the relay's events (no topic), after `outbox.event.<aggregateType>`, as the sink's apply step does.
 */
export function payloadSubject(event: OutboxEvent, topic: string | undefined, strategy: SubjectNameStrategy = 'TopicNameStrategy'): SubjectRule {
  return subjectRule(strategy, topic ?? outboxTopic(event.aggregateType));
}
