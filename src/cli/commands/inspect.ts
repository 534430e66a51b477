/** `outbox-cache inspect <key>...`: what each cache key holds, and whether it matches the database. */
import { createConnection } from 'mysql2/promise';
import { describeSettings } from '../../config/settings.js';
import { formatKeyState } from '../../operations/key-state.js';
import { inspectKeys, type InspectedKey } from '../../operations/inspect.js';
import { INSPECT_SETTINGS } from '../../operations/settings.js';
import { EXIT, type Command } from '../command.js';
import { parseOperationArgs, redisFromSettings, redisProblems } from './operations-options.js';

function asJson(k: InspectedKey): string {
  const s = k.state;
  return JSON.stringify({
    key: s.key, kind: s.kind, version: s.version?.toString() ?? null, ttlMs: s.ttlMs ?? null, leaseToken: s.leaseToken ?? null,
    stale: s.stale ? { version: s.stale.version.toString(), invalidatedAtMs: s.stale.invalidatedAtMs, bytes: s.stale.bytes } : null,
    valueBytes: s.valueBytes ?? null, dbVersion: k.dbVersion === undefined ? undefined : k.dbVersion?.toString() ?? null,
    verdict: k.verdict, value: k.value?.toString('utf8'),
  });
}

export const inspectCommand: Command = {
  path: ['inspect'],
  summary: 'Show what cache keys hold (state, version, TTL, lease, kept stale bytes) and, with --sql, whether they are stale',
  usage: [
    'Usage: outbox-cache inspect KEY... [options]',
    '',
    'For each full Redis key: its state (entry, absent, tombstone, lease, missing, or foreign data),',
    'version (a lease\'s floor), remaining TTL, lease token, the stale bytes a tombstone or lease',
    'kept (version, size, when invalidated) and the value\'s size. The value itself only with',
    '--show-value. With --mysql-url and --sql, the database version beside it and a verdict:',
    'stale when an entry or "known absent" is older than the database (or an entry has no row).',
    '',
    'Options (environment variable in parentheses):',
    describeSettings(INSPECT_SETTINGS),
    '',
    'Exit codes: 0 every key consistent or not compared, 1 a key is stale (or Redis/MySQL failed),',
    '2 bad usage.',
  ].join('\n'),
  async run(ctx) {
    const { settings, positionals } = parseOperationArgs(ctx, INSPECT_SETTINGS, { min: 1, max: 10_000, what: 'one or more keys' }, (c) => [
      ...redisProblems(c),
      ...((c.mysqlUrl === undefined) !== (c.sql === undefined) ? [{ setting: '--sql / --mysql-url', message: 'give both to compare with the database, or neither' }] : []),
    ]);
    const redis = await redisFromSettings(settings);
    const mysql = settings.mysqlUrl ? await createConnection({ uri: settings.mysqlUrl.replace(/^mariadb:/, 'mysql:'), supportBigNumbers: true, bigNumberStrings: true }) : undefined;
    try {
      const results = await inspectKeys({ redis, keys: positionals, keyPrefix: settings.keyPrefix, mysql, sql: settings.sql, showValue: settings.showValue });
      for (const result of results) {
        if (settings.json) ctx.stdout.write(`${asJson(result)}\n`);
        else {
          ctx.stdout.write(`${formatKeyState(result.state, result.verdict, result.dbVersion)}\n`);
          if (result.value) ctx.stdout.write(`  value: ${result.value.toString('utf8')}\n`);
        }
      }
      return results.some((r) => r.verdict === 'stale') ? EXIT.FAILURE : EXIT.OK;
    } finally {
      redis.disconnect();
      await mysql?.end();
    }
  },
};
