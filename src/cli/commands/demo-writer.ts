/** `outbox-cache demo writer`: the docker compose stack's steady writer, until SIGTERM. */
import { createPool } from 'mysql2/promise';
import { AvroCodec } from '../../codec/codec.js';
import { SchemaRegistryClient } from '../../codec/registry-client.js';
import { describeSettings } from '../../config/settings.js';
import { DEMO_WRITER_SETTINGS, parseDemoWriterConfig } from '../../demo/demo-config.js';
import { runDemoWriter } from '../../demo/writer.js';
import { OutboxCacheError, errorMessage, maskUrlCredentials } from '../../errors.js';
import { EXIT, type Command } from '../command.js';

/** The demo writer command. A clean stop (SIGTERM, SIGINT, --duration) exits 0. */
export const demoWriterCommand: Command = {
  path: ['demo', 'writer'],
  summary: 'Write a steady trickle of user and product updates through the outbox (the compose stack\'s writer)',
  usage: [
    'Usage: outbox-cache demo writer [options]',
    '',
    'Creates the app_user and product tables in the database of MYSQL_URL if missing, then updates a random',
    'user or product (alternating) at a steady rate, each in one transaction with its outbox event, encoded',
    'with the latest schema registered under outbox.event.user-value / outbox.event.product-value (push them',
    'first: outbox-cache schemas push). Product events are io.outboxcache.CacheChange UPSERTs (the sink writes',
    'the value through); user events are UserChanged (the default mapping invalidates user:<id>).',
    'Database and registry outages are retried; SIGTERM stops it.',
    '',
    'Options (environment variable in parentheses):',
    describeSettings(DEMO_WRITER_SETTINGS),
    '',
  ].join('\n'),
  async run(ctx) {
    const config = parseDemoWriterConfig(ctx.env, ctx.argv);
    const url = new URL(config.mysqlUrl);
    url.protocol = 'mysql:';
    const pool = createPool({ uri: url.toString(), connectionLimit: 2, timezone: 'Z', supportBigNumbers: true, connectTimeout: 10_000 });
    const registry = new SchemaRegistryClient({
      url: config.registryUrl,
      auth: config.registryUser && config.registryPassword ? { username: config.registryUser, password: config.registryPassword } : undefined,
    });
    const database = decodeURIComponent(url.pathname.slice(1));
    ctx.stdout.write(`demo writer: ${config.rate} writes/s to ${url.host}/${database} (users and products 1..${config.keys})\n`);
    let lastRetryMessage = 0;
    let lastFailure: unknown;
    try {
      const result = await runDemoWriter({
        pool,
        codec: new AvroCodec({ registry }),
        ratePerSecond: config.rate,
        keys: config.keys,
        signal: ctx.signal,
        durationMs: config.duration,
        onRetry: (err) => {
          lastFailure = err;
          // One line per 5 s at most while the database or registry is down.
          if (Date.now() - lastRetryMessage < 5000) return;
          lastRetryMessage = Date.now();
          ctx.stderr.write(`demo writer: retrying: ${errorMessage(err)}\n`);
        },
      });
      ctx.stdout.write(`demo writer: stopped after ${result.users} user and ${result.products} product writes\n`);
      // Stopped before writing anything while a dependency kept failing: that is the result.
      if (result.users + result.products === 0 && lastFailure !== undefined) {
        const code = lastFailure instanceof OutboxCacheError ? lastFailure.code : 'DEMO_WROTE_NOTHING';
        ctx.stderr.write(`outbox-cache demo writer: wrote nothing; last failure: ${maskUrlCredentials(errorMessage(lastFailure))} [${code}]\n`);
        return EXIT.FAILURE;
      }
      return EXIT.OK;
    } finally {
      await pool.end().catch(() => {});
    }
  },
};
