/**
 * Connector files (`connectors/*.json`) and the placeholders in them. Pure: no I/O, no
 * `process.env` (the caller passes the environment in).
 *
 * A file has the shape Kafka Connect's `POST /connectors` takes: `{ "name": ..., "config": {...} }`.
 * Two kinds of `${...}` may appear in its string values:
 * - `${NAME}` and `${NAME:-default}`, NAME in capitals (`[A-Z][A-Z0-9_]*`): replaced here, from the
 *   environment of whoever runs `outbox-cache connectors apply`, before anything is sent. For
 *   connection settings that differ per site (host, port, database, topic prefix). An empty
 *   variable counts as unset, as in the shell's `:-`.
 * - anything else, e.g. `${env:DEBEZIUM_DB_PASSWORD}` (a Kafka config provider reference, resolved
 *   by the Connect worker from its own environment) or Debezium's own `${routedByValue}`: left as
 *   written. Secrets go this way, so they never travel through the REST API or the config topic.
 */
import { ConfigError, type ConfigProblem } from '../errors.js';

/** A connector as sent to Kafka Connect: its name and its flat string-to-string configuration. */
export interface ConnectorSpec {
  readonly name: string;
  readonly config: Readonly<Record<string, string>>;
}

/** A placeholder replaced from the environment: `${NAME}` or `${NAME:-default}`. */
export interface EnvPlaceholder {
  readonly variable: string;
  /** Value used when the variable is unset or empty; undefined when the placeholder has none. */
  readonly defaultValue: string | undefined;
}

// Capitals only, so Debezium's `${routedByValue}` and provider references (`${env:X}`, which
// contain a colon not followed by `-`) never match.
const ENV_PLACEHOLDER = /\$\{([A-Z][A-Z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Parses a connector file's text. Values may be JSON strings, numbers or booleans (numbers and
 * booleans become their decimal/`true`/`false` text, which is what Connect stores); anything else
 * is refused. Throws a ConfigError naming `source` and every problem found.
 */
export function parseConnectorFile(text: string, source: string): ConnectorSpec {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([{ setting: source, message: `not valid JSON: ${(err as Error).message}` }]);
  }
  const problems: ConfigProblem[] = [];
  if (!isObject(json)) {
    throw new ConfigError([{ setting: source, message: 'expected an object {"name": ..., "config": {...}}' }]);
  }
  const name = json.name;
  if (typeof name !== 'string' || name.trim() === '') {
    problems.push({ setting: `${source}: name`, message: 'must be a non-empty string' });
  }
  const config: Record<string, string> = {};
  if (!isObject(json.config)) {
    problems.push({ setting: `${source}: config`, message: 'must be an object of connector settings' });
  } else {
    for (const [key, value] of Object.entries(json.config)) {
      if (typeof value === 'string') config[key] = value;
      else if (typeof value === 'number' || typeof value === 'boolean') config[key] = String(value);
      else problems.push({ setting: `${source}: config.${key}`, message: 'must be a string, number or boolean' });
    }
    if (config['connector.class'] === undefined) {
      problems.push({ setting: `${source}: config.connector.class`, message: 'is required' });
    }
  }
  for (const key of Object.keys(json)) {
    if (key !== 'name' && key !== 'config') {
      problems.push({ setting: `${source}: ${key}`, message: 'unknown field (only "name" and "config")' });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { name: name as string, config };
}

/** Every environment placeholder in `text`, in order of appearance (repeats included). */
export function envPlaceholders(text: string): EnvPlaceholder[] {
  return [...text.matchAll(ENV_PLACEHOLDER)].map((m) => ({ variable: m[1] as string, defaultValue: m[2] }));
}

/** Every environment placeholder in a connector's name and settings, one per variable. */
export function connectorPlaceholders(spec: ConnectorSpec): EnvPlaceholder[] {
  const seen = new Map<string, EnvPlaceholder>();
  for (const text of [spec.name, ...Object.values(spec.config)]) {
    for (const p of envPlaceholders(text)) {
      const known = seen.get(p.variable);
      // A variable with a default anywhere is only required where it has none.
      if (!known || (known.defaultValue !== undefined && p.defaultValue === undefined)) seen.set(p.variable, p);
    }
  }
  return [...seen.values()];
}

/**
 * Replaces every `${NAME}` / `${NAME:-default}` in the connector's name and settings from `env`.
 * Leaves other `${...}` untouched. Throws one ConfigError listing every variable that is unset
 * (or empty) and has no default, with the settings that use it.
 */
export function resolveConnector(spec: ConnectorSpec, env: Readonly<Record<string, string | undefined>>): ConnectorSpec {
  const missing = new Map<string, string[]>();
  const substitute = (text: string, where: string): string =>
    text.replace(ENV_PLACEHOLDER, (whole, variable: string, fallback: string | undefined) => {
      const value = env[variable];
      if (value !== undefined && value !== '') return value;
      if (fallback !== undefined) return fallback;
      missing.set(variable, [...(missing.get(variable) ?? []), where]);
      return whole;
    });
  const name = substitute(spec.name, 'name');
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(spec.config)) config[key] = substitute(value, key);
  if (missing.size > 0) {
    throw new ConfigError(
      [...missing].map(([variable, where]) => ({
        setting: variable,
        message: `not set (used by ${where.join(', ')}); set it in the environment of \`outbox-cache connectors apply\``,
      })),
    );
  }
  return { name, config };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
