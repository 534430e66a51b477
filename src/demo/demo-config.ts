/**
 * Options of `outbox-cache demo writer` (and the duration format the lab shares), through the project's settings
 * parser (every problem reported at once; flags win over environment variables).
 */
import { z } from 'zod';
import { fields, parseSettings, setting, type SettingsValue } from '../config/settings.js';
import { SINK_SETTINGS } from '../config/sink.js';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `20s`, `1m`, `500ms`, `1h` or a bare number of seconds into ms; undefined when malformed. */
export function parseDemoDuration(text: string): number | undefined {
  const match = /^(\d{1,7}(?:\.\d{1,3})?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match?.[1]) return undefined;
  return Math.round(Number(match[1]) * (UNIT_MS[match[2] ?? 's'] ?? NaN));
}

function duration(fallback: string | undefined, minMs: number) {
  return z.string().optional()
    .transform((s) => (s ?? fallback) === undefined ? undefined : parseDemoDuration((s ?? fallback) as string) ?? NaN)
    .refine((ms) => ms === undefined || (Number.isFinite(ms) && ms >= minMs), `must be a duration of at least ${minMs} ms, e.g. 20s, 1m, 500ms`);
}

/** Settings of `outbox-cache demo writer` (the docker compose stack's writer). */
export const DEMO_WRITER_SETTINGS = {
  mysqlUrl: setting({
    env: 'MYSQL_URL', flag: 'mysql-url', secret: true,
    doc: 'mysql://user:password@host:3306/database to write to; the user needs CREATE, SELECT, INSERT, UPDATE, DELETE there (required)',
    schema: fields.url(['mysql:', 'mariadb:'], 'MYSQL_URL').refine((u) => /^[A-Za-z0-9_$]{1,64}$/.test(new URL(u).pathname.slice(1)), 'must name the database: mysql://host:3306/database'),
  }),
  registryUrl: setting({ env: 'SCHEMA_REGISTRY_URL', flag: 'registry-url', schema: fields.url(['http:', 'https:'], 'SCHEMA_REGISTRY_URL'), doc: 'Schema Registry holding the shipped schemas (outbox-cache schemas push) (required)' }),
  registryUser: SINK_SETTINGS.registryUser,
  registryPassword: SINK_SETTINGS.registryPassword,
  rate: setting({ env: 'DEMO_WRITE_RATE', flag: 'rate', schema: fields.int(5, 1, 10_000), doc: 'writes per second, alternating user and product (default 5)' }),
  keys: setting({ env: 'DEMO_KEYS', flag: 'keys', schema: fields.int(20, 1, 100_000), doc: 'users and products written, ids 1..N each (default 20)' }),
  duration: setting({ env: 'DEMO_DURATION', flag: 'duration', schema: duration(undefined, 1), doc: 'stop after this long, e.g. 30s (default: run until SIGTERM)' }),
} as const;

/** Validated options of `outbox-cache demo writer`. */
export type DemoWriterConfig = SettingsValue<typeof DEMO_WRITER_SETTINGS>;

/** Parses the demo writer's options; throws one ConfigError listing every problem. */
export function parseDemoWriterConfig(env: Readonly<Record<string, string | undefined>>, argv: readonly string[]): DemoWriterConfig {
  return parseSettings(DEMO_WRITER_SETTINGS, env, argv);
}
