/** Settings of `audit`, `audit sample` and the embedded audit: validation reports every problem at once; the CLI exits 2. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseSampleConfig } from '../../src/audit/sample-settings.js';
import { EMBEDDED_AUDIT_SETTINGS, auditTopics, parseAuditConfig, parseBoth, parseEmbeddedAuditConfig, splitArgv } from '../../src/audit/settings.js';
import { runCommand } from '../../src/cli/commands/run.js';
import { auditCommand } from '../../src/cli/commands/audit.js';
import { runReporting, type Command } from '../../src/cli/command.js';
import { ConfigError } from '../../src/errors.js';

const problems = (parse: () => unknown): string[] => {
  try {
    parse();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.setting);
    throw err;
  }
  return [];
};
/** Runs `command` as main does (errors reported on stderr); resolves to the exit code and what it wrote. */
async function runCli(command: Command, argv: string[], env: Record<string, string>): Promise<{ code: number; text: string }> {
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (d: Buffer) => (text += d.toString()));
  const ctx = { argv, env, stdout: new PassThrough(), stderr, signal: new AbortController().signal };
  const code = await runReporting(ctx, command.path.join(' '), () => command.run(ctx));
  return { code, text };
}
const base = { KAFKA_BROKERS: 'k:9092', SCHEMA_REGISTRY_URL: 'http://r', REDIS_URL: 'redis://h:6379' };

describe('outbox-cache audit settings', () => {
  it('defaults to 1s,10s,60s on its own group, with the sink\'s names for everything shared', () => {
    const config = parseAuditConfig({ ...base, CACHE_KEY_PREFIX: 'app:', SINK_MAPPING_MODULE: 'm.js' });
    expect(config).toMatchObject({
      delays: [1000, 10_000, 60_000], groupId: 'outbox-cache-audit', sampleRate: 1, repair: false, keyPrefix: 'app:', mappingModule: 'm.js', metricsPort: 9465,
    });
    expect(auditTopics(config)).toEqual([/^outbox\.event\.(?<aggregateType>[A-Za-z0-9_]+)$/]);
    expect(parseAuditConfig({ ...base }, ['--delays', '60s,500ms,2m', '--repair', '--sample-rate', '0.25']))
      .toMatchObject({ delays: [500, 60_000, 120_000], repair: true, sampleRate: 0.25 });
  });

  it('reports every problem at once', () => {
    expect(problems(() => parseAuditConfig({
      AUDIT_DELAYS: '1s,soon', AUDIT_SAMPLE_RATE: '0', KAFKA_GROUP_ID: 'outbox-cache-sink', AUDIT_MAX_PENDING: '5',
      KAFKA_TOPICS: 'a', KAFKA_TOPIC_PATTERN: 'b', SCHEMA_REGISTRY_URL: 'http://r', REDIS_URL: 'redis://h',
    }, ['--bogus']))).toEqual(['--bogus', 'AUDIT_DELAYS', 'AUDIT_SAMPLE_RATE', 'AUDIT_MAX_PENDING', 'KAFKA_BROKERS', 'KAFKA_TOPICS', 'KAFKA_TOPICS', 'KAFKA_GROUP_ID']);
    expect(problems(() => parseAuditConfig({ ...base, KAFKA_GROUP_ID: 'outbox-cache-sink', KAFKA_TOPICS: 'a', KAFKA_TOPIC_PATTERN: 'b', AUDIT_DELAYS: '1s,1s' })))
      .toEqual(['AUDIT_DELAYS', 'KAFKA_TOPICS', 'KAFKA_TOPICS', 'KAFKA_GROUP_ID']);
    expect(problems(() => parseAuditConfig({ ...base, KAFKA_GROUP_ID: 'outbox-cache-sink', KAFKA_TOPICS: 'a', KAFKA_TOPIC_PATTERN: 'b', AUDIT_DELAYS: '2m', AUDIT_WINDOW_MS: '60000' })))
      .toEqual(['KAFKA_TOPICS', 'KAFKA_TOPICS', 'KAFKA_GROUP_ID', 'AUDIT_WINDOW_MS']);
    // Topics are routed as the sink routes them.
    expect(problems(() => parseAuditConfig({ ...base, KAFKA_TOPICS: 'outbox.event.user,orders', ROUTING_TOPIC_PATTERN: '^(?<aggregateType>orders)$' })))
      .toEqual(['KAFKA_TOPICS']);
  });

  it('exits 2 from the command line, listing the problems', async () => {
    const { code, text } = await runCli(auditCommand, ['--delays', 'x'], {});
    expect(code).toBe(2);
    expect(text).toMatch(/AUDIT_DELAYS|--delays/);
    expect(text).toContain('KAFKA_BROKERS');
  });
});

describe('the embedded audit\'s settings', () => {
  it('is off without AUDIT_DELAYS and takes its own flags out of run\'s arguments', () => {
    expect(parseEmbeddedAuditConfig({}).delays).toBeUndefined();
    const { own, rest } = splitArgv(['--delays', '1s', '--mode', 'redis', '--report=r.json', '--repair', '--table', 'outbox'], EMBEDDED_AUDIT_SETTINGS);
    expect(own).toEqual(['--delays', '1s', '--report=r.json', '--repair']);
    expect(rest).toEqual(['--mode', 'redis', '--table', 'outbox']);
  });

  it('reports run\'s and the audit\'s problems together; `run` exits 2', async () => {
    expect(problems(() => parseBoth(() => parseEmbeddedAuditConfig({ AUDIT_DELAYS: 'x' }), () => parseSampleConfig({}))))
      .toEqual(['AUDIT_DELAYS', 'AUDIT_SAMPLE_QUERIES', 'MYSQL_URL', 'REDIS_URL']);
    const { code, text } = await runCli(runCommand, ['--delays', 'never'], { MYSQL_URL: 'mysql://h/app' });
    expect(code).toBe(2);
    expect(text).toContain('--delays');
    expect(text).toContain('REDIS_URL');
    expect(runCommand.usage).toContain('AUDIT_DELAYS');
  });
});
