/**
 * The configuration parser: a table of settings, each read from an environment variable or a
 * command-line flag (the flag wins), validated with zod. Every problem is collected and reported
 * at once in one {@link ConfigError}; the result is frozen.
 */
import { z } from 'zod';
import { ConfigError, type ConfigProblem } from '../errors.js';

/** One setting: where it is read from, how it is validated, and its documentation. */
export interface Setting<T> {
  /** Environment variable, e.g. `KAFKA_BROKERS`. */
  readonly env: string;
  /** Flag without dashes, e.g. `brokers` for `--brokers`. */
  readonly flag: string;
  /** Validates the raw text (undefined when unset) into the typed value. */
  readonly schema: z.ZodType<T>;
  /** One line for `--help` and the README. */
  readonly doc: string;
  /** True for passwords: never echoed back in error messages. */
  readonly secret?: boolean;
}

/** Defines a setting (keeps the value type of its schema). */
export function setting<T>(def: Setting<T>): Setting<T> {
  return def;
}

/** Typed result of a table of settings. */
export type SettingsValue<S extends Record<string, Setting<unknown>>> = { readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

/** Reads `--name value` and `--name=value` pairs; a flag without a value (`--name`) reads as 'true'. */
export function parseFlags(argv: readonly string[]): { flags: Map<string, string>; problems: ConfigProblem[] } {
  const flags = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/s.exec(arg);
    if (!match?.[1]) {
      problems.push({ setting: arg, message: 'unexpected argument (options are --name value or --name=value)' });
      continue;
    }
    const next = argv[i + 1];
    if (match[2] !== undefined) flags.set(match[1], match[2]);
    else if (next !== undefined && !next.startsWith('--')) flags.set(match[1], (i++, next));
    else flags.set(match[1], 'true');
  }
  return { flags, problems };
}

/**
 * Validates every setting of `table` from `env` and `argv`. Throws one {@link ConfigError} listing
 * every problem (unknown flags included); returns a frozen object otherwise.
 */
export function parseSettings<S extends Record<string, Setting<unknown>>>(
  table: S,
  env: Readonly<Record<string, string | undefined>>,
  argv: readonly string[] = [],
): SettingsValue<S> {
  const { value, problems } = parsePartially(table, env, argv);
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(value) as SettingsValue<S>;
}

/** Every setting that parsed (the others absent), and every problem, without throwing. */
function parsePartially<S extends Record<string, Setting<unknown>>>(
  table: S,
  env: Readonly<Record<string, string | undefined>>,
  argv: readonly string[],
): { value: Record<string, unknown>; problems: ConfigProblem[]; failed: Set<string>; failedKeys: Set<string> } {
  const { flags, problems } = parseFlags(argv);
  const known = new Set(Object.values(table).map((s) => s.flag));
  for (const flag of flags.keys()) {
    if (!known.has(flag)) problems.push({ setting: `--${flag}`, message: 'unknown option' });
  }
  const out: Record<string, unknown> = {};
  const failed = new Set<string>();
  const failedKeys = new Set<string>();
  for (const [name, def] of Object.entries(table)) {
    const fromFlag = flags.get(def.flag);
    const raw = fromFlag ?? emptyAsUnset(env[def.env]);
    const result = def.schema.safeParse(raw);
    if (result.success) {
      out[name] = result.data;
      continue;
    }
    const where = fromFlag !== undefined ? `--${def.flag}` : def.env;
    failed.add(def.env).add(`--${def.flag}`);
    failedKeys.add(name);
    for (const issue of result.error.issues) {
      const shown = raw === undefined ? '' : def.secret ? ' (value hidden)' : ` (got ${JSON.stringify(raw)})`;
      problems.push({ setting: where, message: `${issue.message}${shown}` });
    }
  }
  return { value: out, problems, failed, failedKeys };
}

/**
 * {@link parseSettings}, then `crossChecks` on the result (problems that involve several
 * settings); every problem of both steps is reported in one ConfigError. The cross-checks also
 * run when some settings are invalid, on the settings that parsed, so a bad value never hides a
 * missing one; a check stops where it reads an invalid setting, and a cross-check problem about a
 * setting already reported invalid is left out.
 */
export function parseSettingsWith<S extends Record<string, Setting<unknown>>>(
  table: S,
  env: Readonly<Record<string, string | undefined>>,
  argv: readonly string[],
  crossChecks: (value: SettingsValue<S>) => ConfigProblem[],
): SettingsValue<S> {
  const { value, problems, failed, failedKeys } = parsePartially(table, env, argv);
  // The checks see the settings that parsed; reading one that did not ends them (a check that
  // depends on it would only guess), and its own problem is reported already.
  const partial = new Proxy(value, {
    get(target, prop) {
      if (typeof prop === 'string' && failedKeys.has(prop)) throw new UnparsedSetting();
      return Reflect.get(target, prop) as unknown;
    },
  });
  let cross: ConfigProblem[] = [];
  try {
    cross = crossChecks(partial as SettingsValue<S>);
  } catch (err) {
    if (!(err instanceof UnparsedSetting)) throw err;
  }
  problems.push(...cross.filter((p) => !failed.has(p.setting)));
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(value) as SettingsValue<S>;
}

/** Thrown to a cross-check that reads a setting that did not parse. */
class UnparsedSetting extends Error {}

function splitList(text: string): string[] {
  return text.split(',').map((x) => x.trim()).filter((x) => x !== '');
}

function emptyAsUnset(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** Usage lines of a table: `  --flag (ENV)  doc`. */
export function describeSettings(table: Record<string, Setting<unknown>>): string {
  const rows = Object.values(table).map((s) => [`--${s.flag} (${s.env})`, s.doc] as const);
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, doc]) => `  ${left.padEnd(width)}  ${doc}`).join('\n');
}

/** Field schemas shared by the settings tables (all read text, since env and flags are text). */
export const fields = {
  /** Required non-empty text. */
  required: (what: string) => z.string({ error: `${what} is required` }).min(1),
  optional: () => z.string().optional(),
  text: (fallback: string) => z.string().default(fallback),
  /** Comma-separated list without empty items. */
  list: (what: string, fallback?: string) =>
    z.string().optional().transform((s, ctx) => {
      const items = splitList(s ?? fallback ?? '');
      if (items.length === 0) ctx.addIssue({ code: 'custom', message: `${what} is required (comma-separated)` });
      return items;
    }),
  optionalList: () =>
    z.string().optional().transform((s) => (s === undefined ? undefined : splitList(s))),
  bool: (fallback: boolean) =>
    z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' }).optional()
      .transform((s) => (s === undefined ? fallback : s === 'true' || s === '1' || s === 'yes')),
  int: (fallback: number, min: number, max: number) =>
    z.string().default(String(fallback))
      .refine((s) => /^[0-9]+$/.test(s), 'must be a whole number')
      .transform(Number)
      .refine((n) => n >= min && n <= max, `must be between ${min} and ${max}`),
  optionalInt: (min: number, max: number) =>
    z.string().optional()
      .refine((s) => s === undefined || /^[0-9]+$/.test(s), 'must be a whole number')
      .transform((s) => (s === undefined ? undefined : Number(s)))
      .refine((n) => n === undefined || (n >= min && n <= max), `must be between ${min} and ${max}`),
  url: (protocols: readonly string[], what: string) =>
    z.string({ error: `${what} is required` }).refine((s) => {
      try {
        return protocols.includes(new URL(s).protocol);
      } catch {
        return false;
      }
    }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`),
} as const;
