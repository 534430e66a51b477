/**
 * `outbox-cache schemas check`: is every local schema compatible with its subject in the registry?
 * Registered schemas are fine as they are; each unregistered one is checked as if the files were
 * pushed in order: against the registry (its versions, per the subject's level) and against the
 * unregistered files before it (locally, with the same avsc rules as the registry test double).
 */
import { checkCompatibility, type CompatibilityLevel } from '../../codec/compatibility.js';
import type { SchemaRegistryClient } from '../../codec/registry-client.js';
import { RegistryError } from '../../codec/registry-client.js';
import type { LocalSchema, LocalSubject } from '../../codec/schema-manifest.js';
import { EXIT, type Command, type CommandContext } from '../command.js';
import { reportManifest, runSchemasCommand, SCHEMAS_OPTIONS_USAGE } from './schemas-options.js';

/** Verdict on one local schema file. */
interface Verdict {
  readonly file: string;
  readonly ok: boolean;
  readonly detail: string;
}

async function registeredVersions(client: SchemaRegistryClient, subject: string): Promise<number[]> {
  try {
    return await client.getVersions(subject);
  } catch (err) {
    if (err instanceof RegistryError && err.code === 'SCHEMA_SUBJECT_NOT_FOUND') return [];
    throw err;
  }
}

/** Checks one subject's files in order. */
export async function checkSubject(client: SchemaRegistryClient, local: LocalSubject): Promise<{ level: CompatibilityLevel; verdicts: Verdict[] }> {
  const level = await client.getCompatibilityLevel(local.subject);
  const versions = await registeredVersions(client, local.subject);
  const transitive = level.endsWith('_TRANSITIVE');
  const verdicts: Verdict[] = [];
  const pending: LocalSchema[] = [];
  for (const schema of local.schemas) {
    const found = await client.lookupSchema(local.subject, schema.text);
    if (found) {
      verdicts.push({ file: schema.file, ok: true, detail: `registered as version ${found.version} (id ${found.id})` });
      continue;
    }
    const reasons: string[] = [];
    // Against the registry: all versions for transitive levels, else the latest unless an
    // unregistered local file will sit between them.
    const targets = transitive ? versions : pending.length === 0 && versions.length > 0 ? ['latest' as const] : [];
    for (const version of targets) {
      const result = await client.testCompatibility(local.subject, schema.text, version);
      if (!result.compatible) reasons.push(...(result.messages.length > 0 ? result.messages : [`incompatible with registered version ${version}`]));
    }
    const localResult = checkCompatibility(level, schema.type, pending.map((p) => p.type), (i) => pending[i]?.file ?? '');
    reasons.push(...localResult.messages);
    verdicts.push(
      reasons.length === 0
        ? { file: schema.file, ok: true, detail: `compatible (${level}), not registered yet` }
        : { file: schema.file, ok: false, detail: reasons.join('; ') },
    );
    pending.push(schema);
  }
  return { level, verdicts };
}

/** The `schemas check` command. */
export const schemasCheckCommand: Command = {
  path: ['schemas', 'check'],
  summary: 'Check every local Avro schema against its Schema Registry subject (registers nothing)',
  usage: `Usage: outbox-cache schemas check [options]

Checks each schema file listed in DIR/subjects.json against its subject's compatibility level in the
Schema Registry, as if the files were registered in the listed order. Registers nothing.

${SCHEMAS_OPTIONS_USAGE}`,
  run: (ctx: CommandContext) =>
    runSchemasCommand(ctx, 'schemas check', async ({ client, manifest }) => {
      let failed = reportManifest(ctx, manifest);
      let count = 0;
      for (const local of manifest.subjects) {
        const { level, verdicts } = await checkSubject(client, local);
        ctx.stdout.write(`${local.subject} (compatibility ${level})\n`);
        for (const v of verdicts) {
          ctx.stdout.write(`  ${v.ok ? 'ok          ' : 'INCOMPATIBLE'}  ${v.file}: ${v.detail}\n`);
          failed ||= !v.ok;
          count += 1;
        }
      }
      ctx.stdout.write(failed ? 'schemas check: FAILED\n' : `schemas check: ${count} schemas in ${manifest.subjects.length} subjects are compatible\n`);
      return failed ? EXIT.FAILURE : EXIT.OK;
    }),
};
