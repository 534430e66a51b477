/**
 * Configuration of `outbox-cache run` (the embedded relay): every environment variable and flag,
 * validated at once with the project's settings parser. Redis, Schema Registry, mapping and Kafka
 * TLS/SASL settings are the sink's own, under the same names, so one environment serves both.
 */
import { z } from 'zod';
import { fields, parseSettingsWith, setting, type SettingsValue } from '../config/settings.js';
import {
  KAFKA_SECURITY_SETTINGS, SINK_SETTINGS, cacheTtlProblems, isRedisUrl, kafkaSecurityProblems, redisUrlProblems, registryAuthProblems,
} from '../config/sink.js';
import type { ConfigProblem } from '../errors.js';
import { parsePosition } from './position.js';

const IDENTIFIER = /^[A-Za-z0-9_$]{1,64}$/;

/** Every setting of `outbox-cache run` (env name, flag, validation, one line of documentation). */
export const RUN_SETTINGS = {
  mysqlUrl: setting({
    env: 'MYSQL_URL', flag: 'mysql-url', secret: true,
    doc: 'mysql://user:password@host:3306/database of the outbox; the user needs REPLICATION SLAVE, REPLICATION CLIENT (required)',
    schema: fields.url(['mysql:', 'mariadb:'], 'MYSQL_URL').refine((u) => /^[A-Za-z0-9_$]{1,64}$/.test(new URL(u).pathname.slice(1)), 'must name the database: mysql://host:3306/database'),
  }),
  table: setting({ env: 'OUTBOX_TABLE', flag: 'table', schema: fields.text('outbox').refine((t) => IDENTIFIER.test(t), 'must be a plain table name'), doc: 'outbox table in that database (default outbox)' }),
  mode: setting({
    env: 'RELAY_MODE', flag: 'mode', doc: 'redis: apply events to Redis directly; kafka: produce them as Debezium\'s EventRouter would (default redis)',
    schema: z.enum(['redis', 'kafka'], { error: 'must be redis or kafka' }).default('redis'),
  }),
  relayName: setting({ env: 'RELAY_NAME', flag: 'relay-name', schema: fields.text('outbox-cache').refine((n) => /^[A-Za-z0-9_.-]{1,64}$/.test(n), 'must be 1-64 letters, digits, _ . -'), doc: 'names the stored position and the lock; one running relay per name (default outbox-cache)' }),
  positionTable: setting({ env: 'RELAY_POSITION_TABLE', flag: 'position-table', schema: fields.text('outbox_relay_position').refine((t) => IDENTIFIER.test(t), 'must be a plain table name'), doc: 'table of stored positions, created in the outbox\'s database (default outbox_relay_position)' }),
  startPosition: setting({
    env: 'RELAY_START_POSITION', flag: 'start-position', doc: 'file:offset where a relay with no stored position starts (default: the current end of the binlog)',
    schema: fields.optional().refine((p) => p === undefined || parsePosition(p) !== undefined, 'must be binlog-file:offset, e.g. binlog.000042:4'),
  }),
  serverId: setting({ env: 'RELAY_SERVER_ID', flag: 'server-id', schema: fields.optionalInt(1, 2 ** 32 - 1), doc: 'replica server id of the binlog connection, unique among the server\'s replicas (default: derived from the relay name)' }),
  batchSize: setting({ env: 'RELAY_BATCH_SIZE', flag: 'batch-size', schema: fields.int(500, 1, 100_000), doc: 'most events per apply (whole transactions) (default 500)' }),
  maxQueuedEvents: setting({ env: 'RELAY_MAX_QUEUED_EVENTS', flag: 'max-queued-events', schema: fields.int(20_000, 1, 10_000_000), doc: 'stop reading the binlog while this many events wait (default 20000)' }),
  checkpointIntervalMs: setting({ env: 'RELAY_CHECKPOINT_INTERVAL_MS', flag: 'checkpoint-interval-ms', schema: fields.int(1_000, 10, 3_600_000), doc: 'store the position at most this often, ms (default 1000)' }),
  retryMaxDelayMs: setting({ env: 'RELAY_RETRY_MAX_DELAY_MS', flag: 'retry-max-delay-ms', schema: fields.int(10_000, 10, 600_000), doc: 'ceiling of the backoff while Redis, the registry, Kafka or MySQL is down, ms (default 10000)' }),
  heartbeatMs: setting({ env: 'RELAY_HEARTBEAT_MS', flag: 'heartbeat-ms', schema: fields.int(5_000, 0, 3_600_000), doc: 'replication heartbeat period asked of the server, ms; a binlog stream silent for 3 periods + 1 s is reopened; 0 turns both off (default 5000)' }),
  lockCheckIntervalMs: setting({ env: 'RELAY_LOCK_CHECK_INTERVAL_MS', flag: 'lock-check-interval-ms', schema: fields.int(5_000, 100, 3_600_000), doc: 'how often the relay verifies it still holds its lock, ms (default 5000)' }),
  queryTimeoutMs: setting({ env: 'RELAY_QUERY_TIMEOUT_MS', flag: 'query-timeout-ms', schema: fields.int(10_000, 100, 600_000), doc: 'deadline of each MySQL query the relay makes (position, checks, lock), ms (default 10000)' }),
  kafkaMaxMessageBytes: setting({ env: 'RELAY_KAFKA_MAX_MESSAGE_BYTES', flag: 'kafka-max-message-bytes', schema: fields.int(1_048_576, 1_024, 1_073_741_824), doc: 'kafka mode: produce requests are split to stay under this many bytes per topic batch, the topics\' max.message.bytes (default 1048576)' }),
  metricsPort: setting({ env: 'METRICS_PORT', flag: 'metrics-port', schema: fields.int(9465, 0, 65_535), doc: 'port of /metrics, /healthz and /readyz (default 9465; 0 picks a free port)' }),
  metricsHost: SINK_SETTINGS.metricsHost,
  redisUrl: setting({
    env: 'REDIS_URL', flag: 'redis-url', secret: true, doc: 'redis:// or rediss:// URL; comma-separated seed nodes with REDIS_CLUSTER (required in redis mode)',
    schema: fields.optionalList().refine((urls) => urls === undefined || (urls.length > 0 && urls.every(isRedisUrl)), 'every URL must start with redis:// or rediss://'),
  }),
  redisCluster: SINK_SETTINGS.redisCluster,
  redisUsername: SINK_SETTINGS.redisUsername,
  redisPassword: SINK_SETTINGS.redisPassword,
  redisTlsRejectUnauthorized: SINK_SETTINGS.redisTlsRejectUnauthorized,
  registryUrl: setting({
    env: 'SCHEMA_REGISTRY_URL', flag: 'registry-url', doc: 'Confluent Schema Registry URL (required in redis mode)',
    schema: fields.optional().refine((u) => u === undefined || /^https?:\/\/[^/]/.test(u), 'must be a URL starting with http:// or https://'),
  }),
  registryUser: SINK_SETTINGS.registryUser,
  registryPassword: SINK_SETTINGS.registryPassword,
  keyPrefix: SINK_SETTINGS.keyPrefix,
  namespaces: SINK_SETTINGS.namespaces,
  entryTtlMs: SINK_SETTINGS.entryTtlMs,
  negativeTtlMs: SINK_SETTINGS.negativeTtlMs,
  tombstoneTtlMs: SINK_SETTINGS.tombstoneTtlMs,
  mappingModule: SINK_SETTINGS.mappingModule,
  subjectStrategy: SINK_SETTINGS.subjectStrategy,
  brokers: setting({ env: 'KAFKA_BROKERS', flag: 'brokers', schema: fields.optionalList(), doc: 'Kafka bootstrap servers, host:port[,host:port...] (required in kafka mode)' }),
  clientId: setting({ env: 'KAFKA_CLIENT_ID', flag: 'client-id', schema: fields.text('outbox-cache-relay'), doc: 'Kafka client id (default outbox-cache-relay)' }),
  ...KAFKA_SECURITY_SETTINGS,
  logLevel: SINK_SETTINGS.logLevel,
} as const;

/** The validated, frozen configuration of `outbox-cache run`. */
export type RunConfig = SettingsValue<typeof RUN_SETTINGS>;

/** Parses `env` and `argv` (flags win); throws one ConfigError listing every problem. */
export function parseRunConfig(env: Readonly<Record<string, string | undefined>>, argv: readonly string[] = []): RunConfig {
  return parseSettingsWith(RUN_SETTINGS, env, argv, crossChecks);
}

/** The sink's checks of the settings each mode uses, and what that mode requires. */
function crossChecks(c: RunConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (c.mode === 'redis') {
    if (!c.redisUrl) problems.push({ setting: 'REDIS_URL', message: 'required in redis mode' });
    if (!c.registryUrl) problems.push({ setting: 'SCHEMA_REGISTRY_URL', message: 'required in redis mode (payloads are decoded to map them)' });
    problems.push(...redisUrlProblems(c), ...registryAuthProblems(c), ...cacheTtlProblems(c));
  } else {
    if (!c.brokers || c.brokers.length === 0) problems.push({ setting: 'KAFKA_BROKERS', message: 'required in kafka mode' });
    problems.push(...kafkaSecurityProblems(c));
  }
  return problems;
}
