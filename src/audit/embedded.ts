/**
 * The audit embedded in `outbox-cache run` (redis mode): the relay hands over each batch it
 * applied, and every event's keys are checked at commit time + each delay, with the same engine,
 * metrics and outputs as `outbox-cache audit`, without Kafka. The relay's callback is synchronous
 * and must never hold it up: when the auditor holds AUDIT_MAX_PENDING checks, further events are
 * counted as dropped rather than queued (memory stays bounded; the nines cover the rest).
 */
import type { Registry } from 'prom-client';
import { AvroCodec } from '../codec/codec.js';
import { SchemaRegistryClient } from '../codec/registry-client.js';
import { ConfigError, errorMessage } from '../errors.js';
import { createRedisClient, type RedisClientSettings } from '../ops/clients.js';
import type { Logger } from '../ops/logger.js';
import type { OutboxEvent } from '../outbox/event.js';
import { loadMappingModule } from '../sink/mapping-loader.js';
import type { AuditedKey } from './auditor.js';
import { createKeyMapper, type KeyMapper } from './keys.js';
import { startAuditSession, type AuditSession } from './session.js';
import type { EmbeddedAuditConfig } from './settings.js';

/** The relay settings the embedded audit reads (the sink's names; see RUN_SETTINGS). */
export interface RelaySettingsForAudit extends Partial<RedisClientSettings> {
  readonly mode: 'redis' | 'kafka';
  readonly registryUrl?: string;
  readonly registryUser?: string;
  readonly registryPassword?: string;
  readonly keyPrefix: string;
  readonly namespaces?: readonly string[];
  readonly mappingModule?: string;
  readonly entryTtlMs?: number;
  readonly negativeTtlMs?: number;
  readonly tombstoneTtlMs?: number;
  readonly retryMaxDelayMs?: number;
}

/** A running embedded audit. */
export interface EmbeddedAudit {
  readonly session: AuditSession;
  /** The relay's applied-batch callback: schedules the checks of `batch.events` (commit time = occurredAtMs). */
  readonly onBatchApplied: (batch: { readonly events: readonly OutboxEvent[] }) => void;
  /** Stops checking, writes the final summary and report, closes its clients. */
  stop(): Promise<void>;
}

/** Options of {@link startEmbeddedAudit}. */
export interface EmbeddedAuditOptions {
  readonly logger: Logger;
  /** The registry the audit's metrics join; the caller serves it (the relay's /metrics). */
  readonly registry: Registry;
}

/**
 * Starts the embedded audit when AUDIT_DELAYS is set (undefined otherwise). Throws ConfigError in
 * kafka mode: there the sink writes Redis, and `outbox-cache audit` audits it from Kafka.
 */
export async function startEmbeddedAudit(
  config: EmbeddedAuditConfig, relay: RelaySettingsForAudit, options: EmbeddedAuditOptions,
): Promise<EmbeddedAudit | undefined> {
  const delays = config.delays;
  if (!delays) return undefined;
  if (relay.mode !== 'redis' || !relay.redisUrl || !relay.registryUrl) {
    throw new ConfigError([{ setting: 'AUDIT_DELAYS', message: 'the embedded audit needs RELAY_MODE=redis; audit a Kafka pipeline with `outbox-cache audit`' }]);
  }
  const { logger } = options;
  const mappings = relay.mappingModule ? await loadMappingModule(relay.mappingModule) : undefined;
  const redis = createRedisClient({ ...relay, redisUrl: relay.redisUrl, redisCluster: relay.redisCluster ?? false, redisTlsRejectUnauthorized: relay.redisTlsRejectUnauthorized ?? true });
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'audit: redis connection error'));
  const session = startAuditSession({ config: { ...config, delays }, redis, ttl: relay, logger, registry: options.registry, retryMaxDelayMs: relay.retryMaxDelayMs });
  const keys = createKeyMapper(new AvroCodec({
    registry: new SchemaRegistryClient({
      url: relay.registryUrl,
      auth: relay.registryUser && relay.registryPassword ? { username: relay.registryUser, password: relay.registryPassword } : undefined,
    }),
  }), { keyPrefix: relay.keyPrefix, namespaces: relay.namespaces, mappings });
  return {
    session,
    onBatchApplied: (batch) => {
      for (const event of batch.events) submitEvent(session, keys, event, logger);
    },
    async stop() {
      await session.stop();
      redis.disconnect();
    },
  };
}

function submitEvent(session: AuditSession, keys: KeyMapper, event: OutboxEvent, logger: Logger): void {
  const { auditor } = session;
  const submit = (audited: readonly AuditedKey[]): void => {
    if (auditor.hasRoom()) auditor.submit(audited, event.occurredAtMs);
    else auditor.skipped('dropped');
  };
  const unauditable = (err: unknown): void => {
    auditor.skipped('unauditable');
    logger.warn({ id: event.id, aggregateType: event.aggregateType, err: errorMessage(err) }, 'event cannot be audited');
  };
  try {
    const mapped = keys(event);
    if (Array.isArray(mapped)) submit(mapped);
    else void (mapped as Promise<readonly AuditedKey[]>).then(submit, unauditable);
  } catch (err) {
    unauditable(err);
  }
}
