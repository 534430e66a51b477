/**
 * Kafka and Redis client settings from validated configuration, shared by every command that
 * talks to them (the sink, and the relay whose settings reuse the sink's). Reads the TLS files
 * named in the configuration; connects nothing itself except what ioredis does on creation.
 */
import { readFileSync } from 'node:fs';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { Logger } from './logger.js';

/** The Kafka settings of a validated configuration (see SINK_SETTINGS). */
export interface KafkaClientSettings {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly ssl: boolean;
  readonly sslCaFile?: string;
  readonly sslCertFile?: string;
  readonly sslKeyFile?: string;
  readonly sslRejectUnauthorized: boolean;
  readonly saslMechanism?: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  readonly saslUsername?: string;
  readonly saslPassword?: string;
}

/** kafkajs client options: brokers, TLS, SASL, and kafkajs' own warnings and errors routed to `logger`. */
export function kafkaClientConfig(settings: KafkaClientSettings, logger: Logger): KafkaConfig {
  const ssl = settings.ssl
    ? {
        rejectUnauthorized: settings.sslRejectUnauthorized,
        ca: settings.sslCaFile ? [readFileSync(settings.sslCaFile, 'utf8')] : undefined,
        cert: settings.sslCertFile ? readFileSync(settings.sslCertFile, 'utf8') : undefined,
        key: settings.sslKeyFile ? readFileSync(settings.sslKeyFile, 'utf8') : undefined,
      }
    : undefined;
  const sasl = settings.saslMechanism
    ? ({ mechanism: settings.saslMechanism, username: settings.saslUsername ?? '', password: settings.saslPassword ?? '' } as SASLOptions)
    : undefined;
  return {
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    ssl,
    sasl,
    logLevel: logLevel.WARN,
    logCreator: () => ({ namespace, level, log }) => {
      const { message, ...extra } = log;
      const fields = { namespace, broker: extra.broker, groupId: extra.groupId, error: extra.error };
      if (level <= logLevel.ERROR) logger.error(fields, message);
      else logger.warn(fields, message);
    },
  };
}

/** The Redis settings of a validated configuration (see SINK_SETTINGS). */
export interface RedisClientSettings {
  /** One URL, or the seed nodes of a cluster. */
  readonly redisUrl: readonly string[];
  readonly redisCluster: boolean;
  readonly redisUsername?: string;
  readonly redisPassword?: string;
  readonly redisTlsRejectUnauthorized: boolean;
}

/**
 * ioredis client (or Cluster) that fails fast while Redis is unreachable, so an outage surfaces as
 * a retriable error (the sink and the relay back off and retry) instead of commands piling up:
 * the offline queue is off (single node and Cluster alike: a Cluster's own queue would otherwise
 * hold commands for as long as it reconnects) and a command sent on a connection that drops is
 * retried once. Reconnection never gives up. Commands sent before the first connection fail the
 * same way and are retried by the caller.
 */
export function createRedisClient(settings: RedisClientSettings): Redis | Cluster {
  const first = new URL(settings.redisUrl[0] ?? 'redis://127.0.0.1:6379');
  const options: RedisOptions = {
    maxRetriesPerRequest: 1,
    username: settings.redisUsername ?? (decodeURIComponent(first.username) || undefined),
    password: settings.redisPassword ?? (decodeURIComponent(first.password) || undefined),
    tls: first.protocol === 'rediss:' ? { rejectUnauthorized: settings.redisTlsRejectUnauthorized } : undefined,
    // Capped delay, unlimited attempts: callers pause and wait for Redis, they do not give up.
    retryStrategy: (times) => Math.min(times * 200, 2000),
  };
  if (!settings.redisCluster) return new Redis(first.toString(), { ...options, enableOfflineQueue: false });
  const nodes = settings.redisUrl.map((u) => {
    const url = new URL(u);
    return { host: url.hostname, port: Number(url.port || 6379) };
  });
  // ioredis keeps the per-node offline queue on (its node connections are lazy); the Cluster's
  // own queue is the one that would hold commands during an outage.
  return new Cluster(nodes, { redisOptions: options, enableOfflineQueue: false, clusterRetryStrategy: (times) => Math.min(times * 200, 2000) });
}
