/**
 * Configuration of `outbox-cache sink`: every environment variable and flag, validated at once.
 * The README's sink section documents the same table.
 */
import { z } from 'zod';
import { resolveCacheTtl } from '../cache/cache-ttl.js';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { DEFAULT_ROUTING_PATTERN, SUBJECT_NAME_STRATEGIES, createRouting, routingPatternProblem, unroutableTopics } from '../sink/routing.js';
import { fields, parseSettingsWith, setting, type SettingsValue } from './settings.js';

/** Default subscription without ROUTING_TOPIC_PATTERN: every outbox topic. */
export const DEFAULT_TOPIC_PATTERN = '^outbox\\.event\\.[A-Za-z0-9_]+$';

/**
 * Kafka TLS and SASL settings, the same for every command that talks to Kafka (the sink, the
 * relay in kafka mode, the auditor, the dead-letter tools); checked by kafkaSecurityProblems.
 */
export const KAFKA_SECURITY_SETTINGS = {
  ssl: setting({ env: 'KAFKA_SSL', flag: 'kafka-ssl', schema: fields.bool(false), doc: 'connect to Kafka over TLS (default false)' }),
  sslCaFile: setting({ env: 'KAFKA_SSL_CA_FILE', flag: 'kafka-ssl-ca-file', schema: fields.optional(), doc: 'PEM file of the CA that signed the brokers\' certificates' }),
  sslCertFile: setting({ env: 'KAFKA_SSL_CERT_FILE', flag: 'kafka-ssl-cert-file', schema: fields.optional(), doc: 'PEM client certificate (mutual TLS)' }),
  sslKeyFile: setting({ env: 'KAFKA_SSL_KEY_FILE', flag: 'kafka-ssl-key-file', schema: fields.optional(), doc: 'PEM client key (mutual TLS)' }),
  sslRejectUnauthorized: setting({ env: 'KAFKA_SSL_REJECT_UNAUTHORIZED', flag: 'kafka-ssl-reject-unauthorized', schema: fields.bool(true), doc: 'verify the brokers\' certificates (default true)' }),
  saslMechanism: setting({
    env: 'KAFKA_SASL_MECHANISM', flag: 'kafka-sasl-mechanism', doc: 'plain, scram-sha-256 or scram-sha-512 (default: no SASL)',
    schema: z.enum(['plain', 'scram-sha-256', 'scram-sha-512'], { error: 'must be plain, scram-sha-256 or scram-sha-512' }).optional(),
  }),
  saslUsername: setting({ env: 'KAFKA_SASL_USERNAME', flag: 'kafka-sasl-username', schema: fields.optional(), doc: 'SASL user name' }),
  saslPassword: setting({ env: 'KAFKA_SASL_PASSWORD', flag: 'kafka-sasl-password', schema: fields.optional(), doc: 'SASL password', secret: true }),
} as const;

/** Every setting of the sink (env name, flag, validation, one line of documentation). */
export const SINK_SETTINGS = {
  brokers: setting({
    env: 'KAFKA_BROKERS', flag: 'brokers', doc: 'Kafka bootstrap servers, host:port[,host:port...] (required)',
    schema: fields.list('KAFKA_BROKERS').refine((bs) => bs.length === 0 || bs.every(isBrokerAddress), 'every broker must be host:port, e.g. kafka-1:9092'),
  }),
  clientId: setting({ env: 'KAFKA_CLIENT_ID', flag: 'client-id', schema: fields.text('outbox-cache-sink'), doc: 'Kafka client id (default outbox-cache-sink)' }),
  groupId: setting({ env: 'KAFKA_GROUP_ID', flag: 'group-id', schema: fields.text('outbox-cache-sink'), doc: 'consumer group id; offsets are committed under it (default outbox-cache-sink)' }),
  topics: setting({ env: 'KAFKA_TOPICS', flag: 'topics', schema: fields.optionalList(), doc: 'comma-separated topics to consume (instead of KAFKA_TOPIC_PATTERN)' }),
  topicPattern: setting({
    env: 'KAFKA_TOPIC_PATTERN', flag: 'topic-pattern', doc: `regular expression of topics to consume, matched against the cluster's topics at start and every KAFKA_TOPIC_REFRESH_MS (default: ROUTING_TOPIC_PATTERN, i.e. every topic the sink can route)`,
    schema: fields.optional().refine((s) => s === undefined || isRegExp(s), 'must be a valid regular expression'),
  }),
  routingPattern: setting({
    env: 'ROUTING_TOPIC_PATTERN', flag: 'routing-topic-pattern',
    doc: `regular expression with a named group (?<aggregateType>...) that gives a topic's aggregate type; a consumed topic it does not match is an error (default ${DEFAULT_ROUTING_PATTERN})`,
    schema: fields.text(DEFAULT_ROUTING_PATTERN).superRefine((s, ctx) => {
      const problem = routingPatternProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  }),
  subjectStrategy: setting({
    env: 'SCHEMA_SUBJECT_STRATEGY', flag: 'subject-strategy',
    doc: 'subject a value\'s schema id must be registered under: TopicNameStrategy (<topic>-value), RecordNameStrategy (<record full name>) or TopicRecordNameStrategy (<topic>-<record full name>) (default TopicNameStrategy)',
    schema: z.enum(SUBJECT_NAME_STRATEGIES, { error: `must be ${SUBJECT_NAME_STRATEGIES.join(', ')}` }).default('TopicNameStrategy'),
  }),
  topicRefreshMs: setting({
    env: 'KAFKA_TOPIC_REFRESH_MS', flag: 'topic-refresh-ms', doc: 'with a pattern: how often to look for new matching topics and subscribe to them, ms; 0 only at start (default 30000)',
    schema: fields.int(30_000, 0, 86_400_000).refine((n) => n === 0 || n >= 100, 'must be 0 (only at start) or at least 100'),
  }),
  fromBeginning: setting({ env: 'KAFKA_FROM_BEGINNING', flag: 'from-beginning', schema: fields.bool(true), doc: 'a new consumer group starts at the earliest offset (default true)' }),
  sessionTimeoutMs: setting({ env: 'KAFKA_SESSION_TIMEOUT_MS', flag: 'session-timeout-ms', schema: fields.int(10_000, 3000, 300_000), doc: 'consumer group session timeout, ms: how soon a crashed sink\'s partitions move to another; within the brokers\' group.min/max.session.timeout.ms (default 10000)' }),
  heartbeatIntervalMs: setting({ env: 'KAFKA_HEARTBEAT_INTERVAL_MS', flag: 'heartbeat-interval-ms', schema: fields.int(1_000, 100, 100_000), doc: 'consumer group heartbeat interval, ms; at most a third of the session timeout (default 1000)' }),
  rebalanceTimeoutMs: setting({ env: 'KAFKA_REBALANCE_TIMEOUT_MS', flag: 'rebalance-timeout-ms', schema: fields.int(30_000, 1000, 600_000), doc: 'how long a rebalance waits for every member to rejoin, ms (default 30000)' }),
  fetchMaxBytes: setting({ env: 'KAFKA_FETCH_MAX_BYTES', flag: 'fetch-max-bytes', schema: fields.int(4_194_304, 1024, 104_857_600), doc: 'most bytes one fetch returns over all partitions; bounds memory (default 4194304)' }),
  fetchMaxBytesPerPartition: setting({ env: 'KAFKA_FETCH_MAX_BYTES_PER_PARTITION', flag: 'fetch-max-bytes-per-partition', schema: fields.int(1_048_576, 1024, 104_857_600), doc: 'most bytes one fetch returns per partition (default 1048576)' }),
  recordDecoder: setting({
    env: 'KAFKA_RECORD_DECODER', flag: 'record-decoder', doc: 'lean (the sink\'s allocation-light equivalent of kafkajs\' record batch decoder) or kafkajs (its own) (default lean)',
    schema: z.enum(['lean', 'kafkajs'], { error: 'must be lean or kafkajs' }).default('lean'),
  }),
  ...KAFKA_SECURITY_SETTINGS,
  registryUrl: setting({ env: 'SCHEMA_REGISTRY_URL', flag: 'registry-url', schema: fields.url(['http:', 'https:'], 'SCHEMA_REGISTRY_URL'), doc: 'Confluent Schema Registry URL (required)' }),
  registryUser: setting({ env: 'SCHEMA_REGISTRY_USER', flag: 'registry-user', schema: fields.optional(), doc: 'Schema Registry basic-auth user' }),
  registryPassword: setting({ env: 'SCHEMA_REGISTRY_PASSWORD', flag: 'registry-password', schema: fields.optional(), doc: 'Schema Registry basic-auth password', secret: true }),
  redisUrl: setting({
    env: 'REDIS_URL', flag: 'redis-url', secret: true, doc: 'redis:// or rediss:// (TLS) URL, may carry user:password; comma-separated seed nodes with REDIS_CLUSTER (required)',
    schema: fields.list('REDIS_URL').refine((urls) => urls.every(isRedisUrl), 'every URL must start with redis:// or rediss://'),
  }),
  redisCluster: setting({ env: 'REDIS_CLUSTER', flag: 'redis-cluster', schema: fields.bool(false), doc: 'REDIS_URL names Redis Cluster seed nodes (default false)' }),
  redisUsername: setting({ env: 'REDIS_USERNAME', flag: 'redis-username', schema: fields.optional(), doc: 'Redis ACL user (overrides the URL\'s)' }),
  redisPassword: setting({ env: 'REDIS_PASSWORD', flag: 'redis-password', schema: fields.optional(), doc: 'Redis password (overrides the URL\'s)', secret: true }),
  redisTlsRejectUnauthorized: setting({ env: 'REDIS_TLS_REJECT_UNAUTHORIZED', flag: 'redis-tls-reject-unauthorized', schema: fields.bool(true), doc: 'verify the Redis server certificate with rediss:// (default true)' }),
  dlqTopic: setting({
    env: 'DLQ_TOPIC', flag: 'dlq-topic', doc: 'dead-letter topic for records that can never be applied (default outbox-cache.dead-letter)',
    schema: fields.text('outbox-cache.dead-letter').refine((t) => /^[A-Za-z0-9._-]{1,249}$/.test(t), 'must be a valid Kafka topic name'),
  }),
  dlqMaxBytes: setting({ env: 'DLQ_MAX_BYTES', flag: 'dlq-max-bytes', schema: fields.int(1_000_000, 10_000, 100_000_000), doc: 'byte budget of one dead-letter send and one dead letter; a larger one is sent without its value, with a header saying so; keep under the topic\'s max.message.bytes (default 1000000)' }),
  keyPrefix: setting({ env: 'CACHE_KEY_PREFIX', flag: 'key-prefix', schema: fields.text(''), doc: 'prefix of every cache key the sink writes (default empty)' }),
  namespaces: setting({
    env: 'CACHE_NAMESPACES', flag: 'namespaces', doc: 'comma-separated namespaces keys may fall in (<prefix><namespace>:...); default: the event\'s own aggregate type',
    schema: fields.optionalList().refine((xs) => xs === undefined || (xs.length > 0 && xs.every((x) => /^[A-Za-z0-9_.-]+$/.test(x))), 'must list namespaces made of letters, digits, _ . -'),
  }),
  entryTtlMs: setting({ env: 'CACHE_ENTRY_TTL_MS', flag: 'entry-ttl-ms', schema: fields.optionalInt(1, 2 ** 31 - 1), doc: 'TTL of entries written through, ms (default 3600000); same value as the read path' }),
  negativeTtlMs: setting({ env: 'CACHE_NEGATIVE_TTL_MS', flag: 'negative-ttl-ms', schema: fields.optionalInt(1, 2 ** 31 - 1), doc: 'TTL of "known absent" entries written on DELETE, ms (default 300000)' }),
  tombstoneTtlMs: setting({ env: 'CACHE_TOMBSTONE_TTL_MS', flag: 'tombstone-ttl-ms', schema: fields.optionalInt(1, 2 ** 31 - 1), doc: 'TTL of tombstones, ms (default 60000); same value as the read path' }),
  keepStaleBytes: setting({ env: 'CACHE_KEEP_STALE_BYTES', flag: 'keep-stale-bytes', schema: fields.bool(false), doc: 'invalidations keep the entry\'s bytes in the tombstone for reads with allowStaleMs; costs memory for the tombstone TTL (default false)' }),
  mappingModule: setting({ env: 'SINK_MAPPING_MODULE', flag: 'mapping', schema: fields.optional(), doc: 'path of an ES module whose default export maps aggregate types to mapping functions' }),
  concurrency: setting({ env: 'SINK_PARTITION_CONCURRENCY', flag: 'concurrency', schema: fields.int(4, 1, 1024), doc: 'partitions processed in parallel (default 4)' }),
  batchSize: setting({ env: 'SINK_BATCH_SIZE', flag: 'batch-size', schema: fields.int(1000, 1, 100_000), doc: 'most records per Redis apply, one writer call (default 1000)' }),
  retryMaxDelayMs: setting({ env: 'SINK_RETRY_MAX_DELAY_MS', flag: 'retry-max-delay-ms', schema: fields.int(10_000, 10, 600_000), doc: 'ceiling of the backoff while Redis, the registry or the DLQ is down, ms (default 10000)' }),
  metricsPort: setting({ env: 'METRICS_PORT', flag: 'metrics-port', schema: fields.int(9464, 0, 65_535), doc: 'port of /metrics, /healthz and /readyz (default 9464; 0 picks a free port)' }),
  metricsHost: setting({ env: 'METRICS_HOST', flag: 'metrics-host', schema: fields.text('0.0.0.0'), doc: 'address the metrics server listens on (default 0.0.0.0)' }),
  logLevel: setting({
    env: 'LOG_LEVEL', flag: 'log-level', doc: 'fatal, error, warn, info, debug or trace (default info)',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'must be fatal, error, warn, info, debug, trace or silent' }).default('info'),
  }),
} as const;

/** The validated, frozen sink configuration. */
export type SinkConfig = SettingsValue<typeof SINK_SETTINGS>;

function isRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/** True for `host:port` (a name, an IPv4 address or a bracketed IPv6 address; port 1-65535). */
export function isBrokerAddress(text: string): boolean {
  const match = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/.exec(text);
  return match !== null && Number(match[1]) >= 1 && Number(match[1]) <= 65_535;
}

/** True for a parseable `redis://` or `rediss://` URL with a host (the form REDIS_URL accepts). */
export function isRedisUrl(url: string): boolean {
  if (!/^rediss?:\/\/[^/]/.test(url)) return false;
  try {
    new URL(url);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses the sink's configuration from `env` and `argv` (flags override variables). Throws one
 * ConfigError listing every problem, including those that involve two settings.
 */
export function parseSinkConfig(env: Readonly<Record<string, string | undefined>>, argv: readonly string[] = []): SinkConfig {
  return parseSettingsWith(SINK_SETTINGS, env, argv, crossChecks);
}

/** The pattern of topics the sink subscribes to without KAFKA_TOPICS: KAFKA_TOPIC_PATTERN, else the routing pattern. */
export function subscriptionPattern(c: Pick<SinkConfig, 'topicPattern' | 'routingPattern'>): string {
  return c.topicPattern ?? c.routingPattern;
}

function crossChecks(c: SinkConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (c.heartbeatIntervalMs !== undefined && c.sessionTimeoutMs !== undefined && c.heartbeatIntervalMs * 3 > c.sessionTimeoutMs) {
    problems.push({ setting: 'KAFKA_HEARTBEAT_INTERVAL_MS', message: `must be at most a third of KAFKA_SESSION_TIMEOUT_MS (${c.sessionTimeoutMs})` });
  }
  if (c.topics && c.topicPattern) problems.push({ setting: 'KAFKA_TOPICS', message: 'set KAFKA_TOPICS or KAFKA_TOPIC_PATTERN, not both' });
  problems.push(...kafkaSecurityProblems(c), ...registryAuthProblems(c), ...redisUrlProblems(c), ...cacheTtlProblems(c));
  if (c.topics?.some((t) => t === c.dlqTopic) || (!c.topics && new RegExp(subscriptionPattern(c)).test(c.dlqTopic))) {
    problems.push({ setting: 'DLQ_TOPIC', message: 'must not be one of the consumed topics' });
  }
  for (const u of unroutableTopics(c.topics ?? [], createRouting(c.routingPattern, c.subjectStrategy))) {
    problems.push({ setting: 'KAFKA_TOPICS', message: `${u.reason} (ROUTING_TOPIC_PATTERN)` });
  }
  return problems;
}

/** Kafka TLS and SASL settings that contradict each other (shared with every command that reuses them). */
export function kafkaSecurityProblems(
  c: Pick<SinkConfig, 'ssl' | 'sslCaFile' | 'sslCertFile' | 'sslKeyFile' | 'saslMechanism' | 'saslUsername' | 'saslPassword'>,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (c.saslMechanism && (!c.saslUsername || !c.saslPassword)) {
    problems.push({ setting: 'KAFKA_SASL_MECHANISM', message: 'needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD' });
  }
  if (!c.saslMechanism && (c.saslUsername || c.saslPassword)) {
    problems.push({ setting: 'KAFKA_SASL_USERNAME', message: 'SASL credentials given without KAFKA_SASL_MECHANISM' });
  }
  if (!c.ssl && (c.sslCaFile || c.sslCertFile || c.sslKeyFile)) problems.push({ setting: 'KAFKA_SSL', message: 'TLS files given but KAFKA_SSL is not true' });
  if (Boolean(c.sslCertFile) !== Boolean(c.sslKeyFile)) problems.push({ setting: 'KAFKA_SSL_CERT_FILE', message: 'a client certificate needs its key (and the reverse)' });
  return problems;
}

/** Schema Registry basic auth needs both halves. */
export function registryAuthProblems(c: Pick<SinkConfig, 'registryUser' | 'registryPassword'>): ConfigProblem[] {
  return Boolean(c.registryUser) !== Boolean(c.registryPassword)
    ? [{ setting: 'SCHEMA_REGISTRY_USER', message: 'basic auth needs both SCHEMA_REGISTRY_USER and SCHEMA_REGISTRY_PASSWORD' }]
    : [];
}

/** Several Redis URLs are only meaningful as Cluster seed nodes. */
export function redisUrlProblems(c: { readonly redisCluster: boolean; readonly redisUrl?: readonly string[] }): ConfigProblem[] {
  return !c.redisCluster && (c.redisUrl?.length ?? 0) > 1 ? [{ setting: 'REDIS_URL', message: 'several URLs need REDIS_CLUSTER=true' }] : [];
}

const TTL_ENV: Readonly<Record<string, string>> = {
  entryTtlMs: 'CACHE_ENTRY_TTL_MS', negativeTtlMs: 'CACHE_NEGATIVE_TTL_MS', tombstoneTtlMs: 'CACHE_TOMBSTONE_TTL_MS',
};

/** The guard's TTL invariants (entries and "known absent" outlive tombstones), named by variable. */
export function cacheTtlProblems(c: Pick<SinkConfig, 'entryTtlMs' | 'negativeTtlMs' | 'tombstoneTtlMs'>): ConfigProblem[] {
  try {
    resolveCacheTtl({ entryTtlMs: c.entryTtlMs, negativeTtlMs: c.negativeTtlMs, tombstoneTtlMs: c.tombstoneTtlMs });
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => ({ setting: TTL_ENV[p.setting] ?? p.setting, message: p.message }));
  }
}
