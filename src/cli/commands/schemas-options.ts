/**
 * Options shared by `outbox-cache schemas check` and `schemas push`: where the registry is, how to
 * authenticate, where the schema files are. Flags win over the environment.
 */
import { parseCliArgs } from '../args.js';
import { ConfigError } from '../../errors.js';
import { SchemaRegistryClient } from '../../codec/registry-client.js';
import { loadSchemaManifest, type SchemaManifest } from '../../codec/schema-manifest.js';
import { runReporting, type CommandContext } from '../command.js';

/** Default folder of the schema files and their manifest, relative to the working directory. */
export const DEFAULT_SCHEMA_DIR = 'schemas/avro';

/** The options part of both commands' usage text. */
export const SCHEMAS_OPTIONS_USAGE = `  --registry-url URL        Schema Registry base URL (env SCHEMA_REGISTRY_URL)
  --registry-user USER      basic auth user (env SCHEMA_REGISTRY_USER)
  --registry-password PASS  basic auth password (env SCHEMA_REGISTRY_PASSWORD; prefer the
                            environment: flags are visible to other local users)
  --dir DIR                 folder with subjects.json and the .avsc files (default ${DEFAULT_SCHEMA_DIR})

The subject of each schema file is explicit: DIR/subjects.json maps every subject to its files,
oldest first, e.g. {"subjects": {"outbox.event.user-value": ["UserChanged.v1.avsc", "UserChanged.v2.avsc"]}}.
Files it does not list are ignored (and named in the output).

Exit codes: 0 all good, 1 a schema is incompatible or invalid or the registry failed, 2 bad usage.`;

/** What both commands work with once options are valid. */
export interface SchemasSetup {
  readonly client: SchemaRegistryClient;
  readonly manifest: SchemaManifest;
}

/** Validates flags and environment (every problem at once) and loads the manifest. */
export async function schemasSetup(ctx: CommandContext): Promise<SchemasSetup> {
  const { values, problems } = parseCliArgs(ctx.argv, {
    'registry-url': { type: 'string' },
    'registry-user': { type: 'string' },
    'registry-password': { type: 'string' },
    dir: { type: 'string' },
  } as const);
  const urlSetting = values['registry-url'] !== undefined ? '--registry-url' : 'SCHEMA_REGISTRY_URL';
  const url = values['registry-url'] ?? ctx.env.SCHEMA_REGISTRY_URL ?? '';
  const user = values['registry-user'] ?? ctx.env.SCHEMA_REGISTRY_USER;
  const password = values['registry-password'] ?? ctx.env.SCHEMA_REGISTRY_PASSWORD;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    // reported below
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    problems.push({ setting: urlSetting, message: 'required: the registry URL, e.g. http://localhost:8081' });
  }
  if (password !== undefined && user === undefined) {
    problems.push({ setting: 'SCHEMA_REGISTRY_USER', message: 'a registry password is set but no user' });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const client = new SchemaRegistryClient({ url, auth: user === undefined ? undefined : { username: user, password: password ?? '' } });
  return { client, manifest: await loadSchemaManifest(values.dir ?? DEFAULT_SCHEMA_DIR) };
}

/** Runs a command body with its setup, reporting failures as {@link runReporting} does. */
export function runSchemasCommand(ctx: CommandContext, name: string, body: (setup: SchemasSetup) => Promise<number>): Promise<number> {
  return runReporting(ctx, name, async () => body(await schemasSetup(ctx)));
}

/** Writes the manifest's own problems and unlisted files; returns true when there were problems. */
export function reportManifest(ctx: CommandContext, manifest: SchemaManifest): boolean {
  for (const problem of manifest.problems) ctx.stdout.write(`INVALID       ${problem}\n`);
  for (const file of manifest.unlisted) ctx.stdout.write(`note          ${file} is not listed in subjects.json: ignored\n`);
  return manifest.problems.length > 0;
}
