import { describe, expect, it } from 'vitest';
import { parseSinkConfig } from '../../src/config/sink.js';
import { ConfigError, maskUrlCredentials } from '../../src/errors.js';

const minimal = { KAFKA_BROKERS: 'k1:9092, k2:9092', SCHEMA_REGISTRY_URL: 'http://registry:8081', REDIS_URL: 'redis://cache:6379' };

function problems(env: Record<string, string>, argv: string[] = []): string[] {
  try {
    parseSinkConfig(env, argv);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => p.setting);
  }
  return [];
}

describe('parseSinkConfig', () => {
  it('applies defaults and returns a frozen object', () => {
    const config = parseSinkConfig(minimal);
    expect(config).toMatchObject({
      brokers: ['k1:9092', 'k2:9092'], groupId: 'outbox-cache-sink', dlqTopic: 'outbox-cache.dead-letter', topics: undefined,
      metricsPort: 9464, concurrency: 4, keyPrefix: '', fromBeginning: true, redisUrl: ['redis://cache:6379'],
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.brokers)).toBe(true);
  });

  it('lets flags override variables', () => {
    const config = parseSinkConfig({ ...minimal, KAFKA_GROUP_ID: 'env' }, ['--group-id', 'flag', '--metrics-port=0', '--topics', 'outbox.event.a,outbox.event.b']);
    expect([config.groupId, config.metricsPort, config.topics]).toEqual(['flag', 0, ['outbox.event.a', 'outbox.event.b']]);
  });

  it('reports every problem at once', () => {
    expect(problems({ METRICS_PORT: '70000', KAFKA_SASL_MECHANISM: 'gssapi', LOG_LEVEL: 'loud' }, ['--bogus', 'x'])).toEqual(
      expect.arrayContaining(['--bogus', 'KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'REDIS_URL', 'METRICS_PORT', 'KAFKA_SASL_MECHANISM', 'LOG_LEVEL']),
    );
    expect(problems({ ...minimal, KAFKA_TOPICS: 'a', KAFKA_TOPIC_PATTERN: 'b', KAFKA_SASL_MECHANISM: 'plain', SCHEMA_REGISTRY_USER: 'u', DLQ_TOPIC: 'a' }))
      .toEqual(['KAFKA_TOPICS', 'KAFKA_SASL_MECHANISM', 'SCHEMA_REGISTRY_USER', 'DLQ_TOPIC', 'KAFKA_TOPICS']);
    expect(problems({ ...minimal, REDIS_URL: 'http://x', SCHEMA_REGISTRY_URL: 'registry:8081', KAFKA_TOPIC_PATTERN: '(' })).toEqual(
      ['KAFKA_TOPIC_PATTERN', 'SCHEMA_REGISTRY_URL', 'REDIS_URL'],
    );
  });

  it('never echoes secrets in its messages', () => {
    try {
      parseSinkConfig({ ...minimal, REDIS_URL: 'http://user:s3cret@host' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('s3cret');
    }
  });

  it('masks the userinfo of every URL in every message, settings that are not secrets included', () => {
    let message = '';
    try {
      parseSinkConfig({ ...minimal, SCHEMA_REGISTRY_URL: 'ftp://svc:hunter2@registry:8081', KAFKA_TOPICS: 'x', DLQ_TOPIC: 'x' }, ['--registry-user', 'a']);
    } catch (err) {
      message = (err as ConfigError).message + JSON.stringify((err as ConfigError).problems);
    }
    expect(message).toContain('SCHEMA_REGISTRY_URL');
    expect(message).toContain('ftp://***@registry:8081');
    expect(message).not.toMatch(/hunter2|svc:/);
  });
});

describe('maskUrlCredentials', () => {
  it('masks user and password of any scheme, passwords holding @ included, and leaves other text alone', () => {
    expect(maskUrlCredentials('a redis://:pw@h:6379,redis://u:p@ss@h2:1 and mysql://root:x@db/app?ssl=1 http://h/a@b'))
      .toBe('a redis://***@h:6379,redis://***@h2:1 and mysql://***@db/app?ssl=1 http://h/a@b');
    expect(maskUrlCredentials('"https://u:p@r"')).toBe('"https://***@r"');
  });
});

describe('TTL settings', () => {
  it('checks the guard invariant and names the variable', () => {
    expect(problems({ ...minimal, CACHE_TOMBSTONE_TTL_MS: '600000', CACHE_ENTRY_TTL_MS: '60000' })).toEqual(['CACHE_ENTRY_TTL_MS', 'CACHE_NEGATIVE_TTL_MS']);
    expect(parseSinkConfig({ ...minimal, CACHE_ENTRY_TTL_MS: '7200000' }).entryTtlMs).toBe(7_200_000);
  });
});
