/**
 * `outbox-cache schemas push`: registers every local schema under its subject, in the listed
 * order. Idempotent: schemas already registered are left alone and keep their ids.
 */
import { RegistryError } from '../../codec/registry-client.js';
import { EXIT, type Command, type CommandContext } from '../command.js';
import { reportManifest, runSchemasCommand, SCHEMAS_OPTIONS_USAGE } from './schemas-options.js';

/** The `schemas push` command. */
export const schemasPushCommand: Command = {
  path: ['schemas', 'push'],
  summary: 'Register every local Avro schema under its Schema Registry subject (idempotent)',
  usage: `Usage: outbox-cache schemas push [options]

Registers the schema files listed in DIR/subjects.json under their subjects, oldest first. Schemas
already registered are skipped; an incompatible schema stops its subject (later files depend on it)
and makes the command exit 1 after the other subjects are pushed.

${SCHEMAS_OPTIONS_USAGE}`,
  run: (ctx: CommandContext) =>
    runSchemasCommand(ctx, 'schemas push', async ({ client, manifest }) => {
      let failed = reportManifest(ctx, manifest);
      for (const local of manifest.subjects) {
        ctx.stdout.write(`${local.subject}\n`);
        for (const schema of local.schemas) {
          const found = await client.lookupSchema(local.subject, schema.text);
          if (found) {
            ctx.stdout.write(`  unchanged     ${schema.file}: version ${found.version} (id ${found.id})\n`);
            continue;
          }
          try {
            const id = await client.registerSchema(local.subject, schema.text);
            ctx.stdout.write(`  registered    ${schema.file}: id ${id}\n`);
          } catch (err) {
            if (!(err instanceof RegistryError) || err.retriable) throw err;
            ctx.stdout.write(`  REFUSED       ${schema.file}: ${err.message}\n`);
            failed = true;
            break;
          }
        }
      }
      ctx.stdout.write(failed ? 'schemas push: FAILED\n' : 'schemas push: done\n');
      return failed ? EXIT.FAILURE : EXIT.OK;
    }),
};
