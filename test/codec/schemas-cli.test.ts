import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/cli/command.js';
import { schemasCheckCommand } from '../../src/cli/commands/schemas-check.js';
import { schemasPushCommand } from '../../src/cli/commands/schemas-push.js';
import { startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SHIPPED = join(REPO, 'schemas/avro');
const USER = 'outbox.event.user-value';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(command: typeof schemasCheckCommand, argv: string[], env: Record<string, string> = {}): Promise<Run> {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) => new Writable({ write: (chunk: Buffer, _enc, done) => (append(chunk.toString()), done()) });
  const ctx: CommandContext = {
    argv,
    env,
    stdout: sink((s) => (out += s)),
    stderr: sink((s) => (err += s)),
    signal: new AbortController().signal,
  };
  const code = await command.run(ctx);
  return { code, out, err };
}

/** A copy of the shipped schemas plus `extra` files and subject lists, in a fresh folder. */
async function schemaDir(subjects?: Record<string, string[]>, extra: Record<string, unknown> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'schemas-cli-'));
  await cp(SHIPPED, dir, { recursive: true });
  for (const [file, content] of Object.entries(extra)) await writeFile(join(dir, file), typeof content === 'string' ? content : JSON.stringify(content));
  if (subjects) await writeFile(join(dir, 'subjects.json'), JSON.stringify({ subjects }));
  dirs.push(dir);
  return dir;
}

const dirs: string[] = [];
const userV2 = async () => JSON.parse(await readFile(join(SHIPPED, 'com.example.users.UserChanged.v2.avsc'), 'utf8')) as { fields: object[] };
/** v3 adds a field without a default: old records cannot be read with it. */
const userV3Breaking = async () => ({ ...(await userV2()), fields: [...(await userV2()).fields, { name: 'tier', type: 'string' }] });

let registry: SchemaRegistryDouble;
beforeEach(async () => {
  registry = await startSchemaRegistryDouble();
});
afterEach(() => registry.close());
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('schemas push', () => {
  it('registers every shipped schema in order, and is idempotent', async () => {
    const first = await run(schemasPushCommand, ['--dir', SHIPPED, '--registry-url', registry.url]);
    expect(first).toMatchObject({ code: 0, err: '' });
    expect(first.out).toMatch(/registered +com\.example\.users\.UserChanged\.v1\.avsc: id 1/);
    expect(registry.store.versions(USER).map((v) => v.version)).toEqual([1, 2]);
    expect(registry.store.versions('outbox.event.product-value')).toHaveLength(1);
    const second = await run(schemasPushCommand, ['--dir', SHIPPED], { SCHEMA_REGISTRY_URL: registry.url });
    expect(second.code).toBe(0);
    expect(second.out).not.toContain('registered ');
    expect(second.out).toMatch(/unchanged +com\.example\.users\.UserChanged\.v2\.avsc: version 2 \(id 2\)/);
    expect(registry.store.versions(USER)).toHaveLength(2);
  });

  it('stops a subject at an incompatible schema, pushes the others, and exits 1', async () => {
    const dir = await schemaDir(
      { [USER]: ['com.example.users.UserChanged.v1.avsc', 'v3.avsc'], 'outbox.event.product-value': ['io.outboxcache.CacheChange.v1.avsc'] },
      { 'v3.avsc': await userV3Breaking() },
    );
    const result = await run(schemasPushCommand, ['--dir', dir, '--registry-url', registry.url]);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/REFUSED +v3\.avsc: .*incompatible/);
    expect(registry.store.versions(USER)).toHaveLength(1);
    expect(registry.store.versions('outbox.event.product-value')).toHaveLength(1);
  });
});

describe('schemas check', () => {
  it('passes the shipped schemas on an empty registry and after they are pushed', async () => {
    const fresh = await run(schemasCheckCommand, ['--dir', SHIPPED, '--registry-url', registry.url]);
    expect(fresh.code).toBe(0);
    expect(fresh.out).toContain('compatible (BACKWARD), not registered yet');
    await run(schemasPushCommand, ['--dir', SHIPPED, '--registry-url', registry.url]);
    const pushed = await run(schemasCheckCommand, ['--dir', SHIPPED, '--registry-url', registry.url]);
    expect(pushed.code).toBe(0);
    expect(pushed.out).toContain('registered as version 2 (id 2)');
    expect(registry.store.versions(USER)).toHaveLength(2);
  });

  it('refuses a change that breaks the registered versions, with a readable reason, registering nothing', async () => {
    await run(schemasPushCommand, ['--dir', SHIPPED, '--registry-url', registry.url]);
    const dir = await schemaDir({ [USER]: ['com.example.users.UserChanged.v1.avsc', 'com.example.users.UserChanged.v2.avsc', 'v3.avsc'] }, { 'v3.avsc': await userV3Breaking() });
    const result = await run(schemasCheckCommand, ['--dir', dir, '--registry-url', registry.url]);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/INCOMPATIBLE +v3\.avsc: .*tier/);
    expect(result.out).toContain('schemas check: FAILED');
    expect(registry.store.versions(USER)).toHaveLength(2);
  });

  it('checks unregistered files against each other, and every version under a transitive level', async () => {
    // Nothing registered: v3 is compared with the local v2 before it.
    const dir = await schemaDir({ [USER]: ['com.example.users.UserChanged.v1.avsc', 'com.example.users.UserChanged.v2.avsc', 'v3.avsc'] }, { 'v3.avsc': await userV3Breaking() });
    const local = await run(schemasCheckCommand, ['--dir', dir, '--registry-url', registry.url]);
    expect(local.code).toBe(1);
    expect(local.out).toMatch(/INCOMPATIBLE +v3\.avsc: new schema cannot read data written with com\.example\.users\.UserChanged\.v2\.avsc/);

    // v3 reads v2 (which has tier) but not v1: only a transitive level sees it.
    const v2WithTier = { ...(await userV2()), fields: [...(await userV2()).fields, { name: 'tier', type: 'string', default: 'basic' }] };
    const chain = await schemaDir({ [USER]: ['com.example.users.UserChanged.v1.avsc', 'v2t.avsc', 'v3.avsc'] }, { 'v2t.avsc': v2WithTier, 'v3.avsc': await userV3Breaking() });
    registry.store.register(USER, JSON.stringify(JSON.parse(await readFile(join(SHIPPED, 'com.example.users.UserChanged.v1.avsc'), 'utf8'))));
    registry.store.register(USER, JSON.stringify(v2WithTier));
    expect((await run(schemasCheckCommand, ['--dir', chain, '--registry-url', registry.url])).code).toBe(0);
    registry.store.setLevel(USER, 'BACKWARD_TRANSITIVE');
    const transitive = await run(schemasCheckCommand, ['--dir', chain, '--registry-url', registry.url]);
    expect(transitive.code).toBe(1);
    expect(transitive.out).toMatch(/INCOMPATIBLE +v3\.avsc: .*version 1/);
  });

  it('reports invalid schema files and unlisted files', async () => {
    const dir = await schemaDir({ [USER]: ['com.example.users.UserChanged.v1.avsc', 'broken.avsc'], 'not-an-outbox-subject': ['x.avsc'] }, { 'broken.avsc': '{"type": "record", "name": "bad name", "fields": []}' });
    const result = await run(schemasCheckCommand, ['--dir', dir, '--registry-url', registry.url]);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/INVALID +outbox\.event\.user-value: broken\.avsc: invalid Avro schema/);
    expect(result.out).toMatch(/INVALID +not-an-outbox-subject: not an outbox subject/);
    expect(result.out).toContain('io.outboxcache.CacheChange.v1.avsc is not listed in subjects.json');
  });
});

describe('usage, registry failures and authentication', () => {
  it('exits 2 on bad usage, naming every problem', async () => {
    const missing = await run(schemasCheckCommand, ['--dir', SHIPPED], { SCHEMA_REGISTRY_PASSWORD: 'p' });
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('SCHEMA_REGISTRY_URL: required');
    expect(missing.err).toContain('SCHEMA_REGISTRY_USER');
    expect((await run(schemasCheckCommand, ['--bogus'])).code).toBe(2);
    const noDir = await run(schemasPushCommand, ['--dir', join(tmpdir(), 'no-such-schema-dir'), '--registry-url', registry.url]);
    expect(noDir.code).toBe(2);
    expect(noDir.err).toContain('subjects.json: not found');
  });

  it('exits 1 with the error code when the registry cannot be reached', async () => {
    const url = registry.url;
    await registry.close();
    const result = await run(schemasCheckCommand, ['--dir', SHIPPED, '--registry-url', url]);
    registry = await startSchemaRegistryDouble(); // for afterEach
    expect(result.code).toBe(1);
    expect(result.err).toContain('[SCHEMA_REGISTRY_UNREACHABLE]');
  });

  it('authenticates with SCHEMA_REGISTRY_USER / SCHEMA_REGISTRY_PASSWORD, never printing the password', async () => {
    const secured = await startSchemaRegistryDouble({ auth: { username: 'ops', password: 'hunter2' } });
    try {
      const denied = await run(schemasPushCommand, ['--dir', SHIPPED, '--registry-url', secured.url], { SCHEMA_REGISTRY_USER: 'ops', SCHEMA_REGISTRY_PASSWORD: 'wrong' });
      expect(denied.code).toBe(1);
      expect(denied.err).toContain('[SCHEMA_REGISTRY_AUTH]');
      expect(denied.err + denied.out).not.toContain('wrong');
      const allowed = await run(schemasPushCommand, ['--dir', SHIPPED, '--registry-url', secured.url], { SCHEMA_REGISTRY_USER: 'ops', SCHEMA_REGISTRY_PASSWORD: 'hunter2' });
      expect(allowed.code).toBe(0);
      expect(secured.store.versions(USER)).toHaveLength(2);
    } finally {
      await secured.close();
    }
  });
});

describe('through the real CLI entry point', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await schemaDir({ [USER]: ['com.example.users.UserChanged.v1.avsc', 'v3.avsc'] }, { 'v3.avsc': await userV3Breaking() });
  });

  it('npx tsx src/cli/main.ts schemas check exits 1 on an incompatible schema', async () => {
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile('npx', ['tsx', 'src/cli/main.ts', 'schemas', 'check', '--dir', dir], { cwd: REPO, env: { ...process.env, SCHEMA_REGISTRY_URL: registry.url } }, (error, stdout) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout }),
      );
    });
    expect(stdout).toMatch(/INCOMPATIBLE +v3\.avsc/);
    expect(code).toBe(1);
  });
});
