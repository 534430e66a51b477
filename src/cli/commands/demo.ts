/** `outbox-cache demo`: the guarded cache and plain cache-aside side by side on local servers. */
import { describeSettings } from '../../config/settings.js';
import { DEMO_SETTINGS, parseDemoConfig } from '../../demo/demo-config.js';
import { runDemo } from '../../demo/demo.js';
import { MissingBinaryError } from '../../local-servers/index.js';
import { EXIT, type Command } from '../command.js';

/** The demo command. Exits 0 after the summary, also when stopped early with Ctrl-C. */
export const demoCommand: Command = {
  path: ['demo'],
  summary: 'Run the whole loop on a local MariaDB and Redis, next to plain cache-aside, and compare them',
  usage: [
    'Usage: outbox-cache demo [options]',
    '',
    'Starts a MariaDB (binlog on) and a Redis on 127.0.0.1 in temporary directories (stopped on exit),',
    'creates the outbox and a product table, runs the embedded relay (outbox-cache run, redis mode, default',
    'mapping) and drives the same concurrent workload against two caches of the same table: the guarded one',
    '(outbox + relay + version-guarded read-through) and plain cache-aside (DEL after commit; GET, read, SET).',
    'Prints a progress line every second and a summary for both: writes, reads, hit rate, stale reads, and',
    'stale keys once the relay has caught up. Ctrl-C stops early and still prints the summary.',
    'Needs mariadbd and redis-server on PATH (Debian: apt-get install -y mariadb-server redis-server);',
    '`npm run demo` installs them when missing and permitted.',
    '',
    'Options (environment variable in parentheses):',
    describeSettings(DEMO_SETTINGS),
    '',
  ].join('\n'),
  async run(ctx) {
    const config = parseDemoConfig(ctx.env, ctx.argv);
    try {
      await runDemo({
        durationMs: config.duration,
        writers: config.writers,
        readers: config.readers,
        keys: config.keys,
        fillDelayMs: config.fillDelayMs,
        signal: ctx.signal,
        out: (text) => void ctx.stdout.write(text),
        err: (text) => void ctx.stderr.write(text),
      });
    } catch (err) {
      if (!(err instanceof MissingBinaryError)) throw err;
      ctx.stderr.write(`outbox-cache demo: ${err.message.replace(/ \(or set .*$/, '')}\n` +
        'It needs MariaDB and Redis installed locally: sudo apt-get update && sudo apt-get install -y mariadb-server redis-server\n');
      return EXIT.FAILURE;
    }
    return EXIT.OK;
  },
};
