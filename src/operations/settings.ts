/**
 * Settings of the day-2 commands (backfill, rebuild, flush, inspect, dlq), in the project's
 * settings tables: Kafka, Redis and cache settings are the sink's own, under the same names, so
 * one environment serves the sink and these tools; the rest are the commands' own.
 */
import { z } from 'zod';
import { fields, setting } from '../config/settings.js';
import { KAFKA_SECURITY_SETTINGS, SINK_SETTINGS } from '../config/sink.js';
import { parseOffsetRange } from './dead-letters.js';

const NAMESPACE = /^[A-Za-z0-9_.-]+$/;
const IDENTIFIER = /^[A-Za-z0-9_$]{1,64}$/;
const TABLE = /^[A-Za-z0-9_$]{1,64}(\.[A-Za-z0-9_$]{1,64})?$/;

/** Kafka client settings, as the sink's. */
export const KAFKA_TOOL_SETTINGS = {
  brokers: SINK_SETTINGS.brokers,
  clientId: setting({ env: 'KAFKA_CLIENT_ID', flag: 'client-id', schema: fields.text('outbox-cache-tools'), doc: 'Kafka client id (default outbox-cache-tools)' }),
  ...KAFKA_SECURITY_SETTINGS,
  dlqTopic: SINK_SETTINGS.dlqTopic,
} as const;

/** `dlq list`. */
export const DLQ_LIST_SETTINGS = {
  ...KAFKA_TOOL_SETTINGS,
  limit: setting({ env: 'DLQ_LIST_LIMIT', flag: 'limit', schema: fields.int(20, 0, 1_000_000), doc: 'dead letters shown per error code (default 20; the counts are always complete)' }),
  json: setting({ env: 'DLQ_LIST_JSON', flag: 'json', schema: fields.bool(false), doc: 'one JSON object per dead letter instead of the table (default false)' }),
} as const;

/** `dlq replay`: the selection, and the sink's subscription that bounds where records may go. */
export const DLQ_REPLAY_SETTINGS = {
  ...KAFKA_TOOL_SETTINGS,
  topics: SINK_SETTINGS.topics,
  topicPattern: SINK_SETTINGS.topicPattern,
  codes: setting({
    env: 'DLQ_REPLAY_CODES', flag: 'code', doc: 'replay the dead letters with these error codes (comma-separated)',
    schema: fields.optionalList().refine((xs) => xs === undefined || xs.every((x) => /^[A-Z0-9_]+$/.test(x)), 'must be error codes like SCHEMA_UNKNOWN_ID'),
  }),
  offsets: setting({
    env: 'DLQ_REPLAY_OFFSETS', flag: 'offsets', doc: 'replay the dead letters at these dead-letter topic offsets: FROM-TO or PARTITION:FROM-TO, inclusive',
    schema: fields.optional().refine((s) => s === undefined || parseOffsetRange(s) !== undefined, 'must be FROM-TO or PARTITION:FROM-TO with FROM <= TO'),
  }),
  all: setting({ env: 'DLQ_REPLAY_ALL', flag: 'all', schema: fields.bool(false), doc: 'replay every dead letter (needed when neither --code nor --offsets is given)' }),
  dryRun: setting({ env: 'DLQ_REPLAY_DRY_RUN', flag: 'dry-run', schema: fields.bool(false), doc: 'show what would be replayed and check it, produce nothing' }),
} as const;

/** Redis client settings and the key prefix, as the sink's. */
export const REDIS_TOOL_SETTINGS = {
  redisUrl: SINK_SETTINGS.redisUrl,
  redisCluster: SINK_SETTINGS.redisCluster,
  redisUsername: SINK_SETTINGS.redisUsername,
  redisPassword: SINK_SETTINGS.redisPassword,
  redisTlsRejectUnauthorized: SINK_SETTINGS.redisTlsRejectUnauthorized,
  keyPrefix: SINK_SETTINGS.keyPrefix,
} as const;

const optionalMysqlUrl = (doc: string) => setting({
  env: 'MYSQL_URL', flag: 'mysql-url', secret: true, doc,
  schema: fields.optional().refine((u) => u === undefined || isMysqlUrl(u), 'must be mysql://user:password@host:3306/database'),
});

/** `inspect`. */
export const INSPECT_SETTINGS = {
  ...REDIS_TOOL_SETTINGS,
  showValue: setting({ env: 'INSPECT_SHOW_VALUE', flag: 'show-value', schema: fields.bool(false), doc: 'print the cached value itself (default false: size only)' }),
  mysqlUrl: optionalMysqlUrl('mysql://user:password@host:3306/database to read each key\'s database version from (with --sql)'),
  sql: setting({
    env: 'INSPECT_SQL', flag: 'sql', schema: fields.optional(),
    doc: 'query returning the version as its first column; :id is the key after <prefix><namespace>:, :namespace the namespace (e.g. SELECT version FROM products WHERE id = :id)',
  }),
  json: setting({ env: 'INSPECT_JSON', flag: 'json', schema: fields.bool(false), doc: 'one JSON object per key (default false)' }),
} as const;

/** `flush`. */
export const FLUSH_SETTINGS = {
  ...REDIS_TOOL_SETTINGS,
  namespace: setting({ env: 'CACHE_NAMESPACE', flag: 'namespace', schema: fields.required('the namespace').refine((n) => NAMESPACE.test(n), 'must be letters, digits, _ . -'), doc: 'namespace to flush: every key <prefix><namespace>:* (required)' }),
  tombstoneTtlMs: SINK_SETTINGS.tombstoneTtlMs,
  rate: setting({ env: 'FLUSH_RATE', flag: 'rate', schema: fields.int(10_000, 1, 10_000_000), doc: 'most keys turned into tombstones per second (default 10000)' }),
  scanCount: setting({ env: 'FLUSH_SCAN_COUNT', flag: 'scan-count', schema: fields.int(500, 1, 100_000), doc: 'SCAN COUNT hint, keys per step (default 500)' }),
  dryRun: setting({ env: 'FLUSH_DRY_RUN', flag: 'dry-run', schema: fields.bool(false), doc: 'count the keys by state, change nothing' }),
} as const;

/** `backfill` (and the backfill half of `rebuild`). */
export const BACKFILL_SETTINGS = {
  ...REDIS_TOOL_SETTINGS,
  mysqlUrl: setting({
    env: 'MYSQL_URL', flag: 'mysql-url', secret: true, doc: 'mysql://user:password@host:3306/database holding the table (required)',
    schema: fields.url(['mysql:', 'mariadb:'], 'MYSQL_URL').refine(isMysqlUrl, 'must name the database: mysql://host:3306/database'),
  }),
  config: setting({ env: 'BACKFILL_CONFIG', flag: 'config', schema: fields.optional(), doc: 'JSON file of namespaces ({"product": {"table": ..., ...}}) whose entry for --namespace gives the defaults of the options below' }),
  namespace: setting({ env: 'CACHE_NAMESPACE', flag: 'namespace', schema: fields.required('the namespace').refine((n) => NAMESPACE.test(n), 'must be letters, digits, _ . -'), doc: 'namespace (aggregate type) to fill (required)' }),
  table: setting({ env: 'BACKFILL_TABLE', flag: 'table', schema: fields.optional().refine((t) => t === undefined || TABLE.test(t), 'must be table or database.table'), doc: 'table to scan (required here or in --config)' }),
  pk: setting({ env: 'BACKFILL_PK', flag: 'pk', schema: fields.optional().refine((c) => c === undefined || IDENTIFIER.test(c), 'must be a column name'), doc: 'single-column primary key, scanned in order (default id)' }),
  key: setting({ env: 'BACKFILL_KEY', flag: 'key', schema: fields.optional(), doc: 'key template after the prefix, columns in braces (default <namespace>:{<pk>})' }),
  versionColumn: setting({ env: 'BACKFILL_VERSION_COLUMN', flag: 'version-column', schema: fields.optional().refine((c) => c === undefined || IDENTIFIER.test(c), 'must be a column name'), doc: 'the row\'s version column (default version, unless --version-table)' }),
  versionTable: setting({ env: 'BACKFILL_VERSION_TABLE', flag: 'version-table', schema: fields.optional().refine((t) => t === undefined || TABLE.test(t), 'must be table or database.table'), doc: 'read versions from this outbox_version table (aggregatetype = namespace, aggregateid = the key\'s id) instead of a column' }),
  columns: setting({ env: 'BACKFILL_COLUMNS', flag: 'columns', schema: fields.optionalList(), doc: 'value columns, serialised as one JSON object (default every column)' }),
  serializer: setting({ env: 'BACKFILL_SERIALIZER', flag: 'serializer', schema: fields.optional(), doc: 'ES module whose default export (row) => Buffer | string | null makes the cached value (null: known absent)' }),
  where: setting({ env: 'BACKFILL_WHERE', flag: 'where', schema: fields.optional(), doc: 'SQL condition limiting the rows (e.g. "status = \'active\'")' }),
  mode: setting({
    env: 'BACKFILL_MODE', flag: 'mode', doc: 'fill: write entries as a reader\'s fill would; invalidate: write tombstones at the rows\' versions (default fill)',
    schema: z.enum(['fill', 'invalidate'], { error: 'must be fill or invalidate' }).optional(),
  }),
  batchSize: setting({ env: 'BACKFILL_BATCH_SIZE', flag: 'batch-size', schema: fields.optionalInt(1, 10_000), doc: 'rows per batch (default 500)' }),
  rate: setting({ env: 'BACKFILL_RATE', flag: 'rate', schema: fields.optionalInt(1, 10_000_000), doc: 'most rows per second (default: no limit)' }),
  restart: setting({ env: 'BACKFILL_RESTART', flag: 'restart', schema: fields.bool(false), doc: 'ignore a stored cursor and start from the first row (default: resume after the last finished batch)' }),
  entryTtlMs: SINK_SETTINGS.entryTtlMs,
  negativeTtlMs: SINK_SETTINGS.negativeTtlMs,
  tombstoneTtlMs: SINK_SETTINGS.tombstoneTtlMs,
  leaseTtlMs: setting({ env: 'CACHE_LEASE_TTL_MS', flag: 'lease-ttl-ms', schema: fields.int(10_000, 100, 600_000), doc: 'TTL of the leases a batch takes, ms; a batch slower than this fills nothing (default 10000)' }),
} as const;

/** `rebuild`: a flush of the namespace, then a backfill of it. */
export const REBUILD_SETTINGS = {
  ...BACKFILL_SETTINGS,
  flushRate: setting({ env: 'FLUSH_RATE', flag: 'flush-rate', schema: fields.int(10_000, 1, 10_000_000), doc: 'most keys turned into tombstones per second (default 10000)' }),
} as const;

function isMysqlUrl(u: string): boolean {
  try {
    const url = new URL(u);
    return (url.protocol === 'mysql:' || url.protocol === 'mariadb:') && IDENTIFIER.test(url.pathname.slice(1));
  } catch {
    return false;
  }
}
