/**
 * Routing of outbox topics (DESIGN.md §3): the aggregate type comes from the topic name through
 * one pattern with a named group, and the Avro subject through one of Confluent's subject naming
 * strategies. Pure: the sink, its configuration checks and the auditor share it.
 */
import { AGGREGATE_TYPE_PATTERN } from '../outbox/event.js';

/** Name of the group of a routing pattern that captures the aggregate type. */
export const AGGREGATE_TYPE_GROUP = 'aggregateType';

/** Default routing pattern: Debezium's EventRouter default, `outbox.event.<aggregatetype>`. */
export const DEFAULT_ROUTING_PATTERN = `^outbox\\.event\\.(?<${AGGREGATE_TYPE_GROUP}>[A-Za-z0-9_]+)$`;

/** Confluent's subject naming strategies for record values. */
export const SUBJECT_NAME_STRATEGIES = ['TopicNameStrategy', 'RecordNameStrategy', 'TopicRecordNameStrategy'] as const;

/** One of {@link SUBJECT_NAME_STRATEGIES}. */
export type SubjectNameStrategy = (typeof SUBJECT_NAME_STRATEGIES)[number];

/** How topics map to aggregate types and subjects. Build it with {@link createRouting}. */
export interface Routing {
  /** Matches an outbox topic; its group `aggregateType` is the aggregate type. */
  readonly pattern: RegExp;
  readonly subjectStrategy: SubjectNameStrategy;
}

/**
 * The subject a record's schema id must be registered under: a fixed name (TopicNameStrategy), or
 * a function of the writer schema's full record name (the other strategies).
 */
export type SubjectRule = string | ((recordFullName: string) => string);

/** Where a topic's records go. */
export type TopicRoute =
  | { readonly kind: 'outbox'; readonly aggregateType: string; readonly subject: SubjectRule }
  /** Kafka-internal topics (`__*`, Debezium heartbeats included): never outbox records. */
  | { readonly kind: 'ignored' }
  /** A topic the sink cannot route: a configuration mistake, never skipped silently. */
  | { readonly kind: 'unroutable'; readonly reason: string };

/** Kafka's convention for internal topics: `__consumer_offsets`, `__debezium-heartbeat.<prefix>`, ... */
const INTERNAL_TOPIC = /^__/;

/**
 * Problems of a routing pattern as text (empty when usable): it must compile and have a named
 * group `aggregateType`.
 */
export function routingPatternProblem(source: string): string | undefined {
  let pattern: RegExp;
  try {
    pattern = new RegExp(source);
  } catch {
    return 'must be a valid regular expression';
  }
  // A regex with the group has it in the groups of a match against anything it matches; the
  // source check is the only way to know without a topic to match.
  if (!new RegExp(`\\(\\?<${AGGREGATE_TYPE_GROUP}>`).test(pattern.source)) {
    return `must have a named group (?<${AGGREGATE_TYPE_GROUP}>...) capturing the aggregate type`;
  }
  return undefined;
}

/** A routing from a pattern source (default {@link DEFAULT_ROUTING_PATTERN}); throws a TypeError on a bad pattern. */
export function createRouting(patternSource: string = DEFAULT_ROUTING_PATTERN, subjectStrategy: SubjectNameStrategy = 'TopicNameStrategy'): Routing {
  const problem = routingPatternProblem(patternSource);
  if (problem) throw new TypeError(`routing pattern ${JSON.stringify(patternSource)} ${problem}`);
  // Stateful flags would make test() depend on the previous call.
  return Object.freeze({ pattern: new RegExp(patternSource), subjectStrategy });
}

/** The default routing: `outbox.event.<type>`, TopicNameStrategy. */
export const DEFAULT_ROUTING: Routing = createRouting();

/** Decides where `topic`'s records go under `routing`. */
export function routeTopic(topic: string, routing: Routing = DEFAULT_ROUTING): TopicRoute {
  if (INTERNAL_TOPIC.test(topic)) return { kind: 'ignored' };
  const match = routing.pattern.exec(topic);
  if (!match) return { kind: 'unroutable', reason: `topic '${topic}' does not match the routing pattern ${routing.pattern.source}` };
  const aggregateType = match.groups?.[AGGREGATE_TYPE_GROUP];
  if (aggregateType === undefined || !AGGREGATE_TYPE_PATTERN.test(aggregateType)) {
    return {
      kind: 'unroutable',
      reason: `topic '${topic}' gives aggregate type ${JSON.stringify(aggregateType ?? '')} through the routing pattern, not [A-Za-z0-9_]+`,
    };
  }
  return { kind: 'outbox', aggregateType, subject: subjectRule(routing.subjectStrategy, topic) };
}

/** The subject rule of `topic`'s values under `strategy` (Confluent's naming, value subjects). */
export function subjectRule(strategy: SubjectNameStrategy, topic: string): SubjectRule {
  switch (strategy) {
    case 'TopicNameStrategy':
      return `${topic}-value`;
    case 'RecordNameStrategy':
      return (recordFullName) => recordFullName;
    case 'TopicRecordNameStrategy':
      return (recordFullName) => `${topic}-${recordFullName}`;
  }
}

/** The subject of a value with writer schema `recordFullName` under `rule`. */
export function subjectOf(rule: SubjectRule, recordFullName: string): string {
  return typeof rule === 'string' ? rule : rule(recordFullName);
}

/** The topics of `topics` that `routing` cannot route, each with its reason (internal topics are fine). */
export function unroutableTopics(topics: Iterable<string>, routing: Routing = DEFAULT_ROUTING): { topic: string; reason: string }[] {
  const out: { topic: string; reason: string }[] = [];
  for (const topic of topics) {
    const route = routeTopic(topic, routing);
    if (route.kind === 'unroutable') out.push({ topic, reason: route.reason });
  }
  return out;
}
