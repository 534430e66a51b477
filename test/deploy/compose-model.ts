/**
 * Reads docker-compose.yml (through the YAML subset reader) into typed services, with the
 * environment each container gets, for the static deployment tests.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseYamlSubset, type YamlValue } from './yaml-subset.js';

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

/** The parsed compose file. */
export function loadCompose(): ComposeFile {
  return parseYamlSubset(composeText()) as unknown as ComposeFile;
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

/** The YAML value type, re-exported for tests that compare parsers. */
export type { YamlValue };
