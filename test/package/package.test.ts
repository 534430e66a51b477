/**
 * The package as users get it (STYLE.md 11): the root exports only what an application calls and
 * loads no Kafka, binlog, Avro or metrics library; every other part is a subpath in
 * `package.json` `exports`, backed by `src/<part>/index.ts`, with types; and the tarball `npm pack`
 * makes installs into an empty project, where every subpath imports and the CLI runs.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, PACKAGE_ROOT } from '../../bench/built-package.js';

const run = promisify(execFile);
const PROBE = join(import.meta.dirname, 'load-probe.mjs');
const FORBIDDEN_AT_ROOT = ['kafkajs', '@vlasky/zongji', 'prom-client', 'avsc'];
/** Fresh Node processes and tsc: slow on a busy shared machine. */
const SLOW = 180_000;

interface PackageJson {
  name: string;
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
  exports: Record<string, string | { types: string; default: string }>;
}
const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as PackageJson;
const subpaths = Object.keys(manifest.exports).filter((k) => k !== './package.json');

/** Packages loaded by importing `target` in a fresh Node process. */
async function loadedBy(target: string): Promise<string[]> {
  const { stdout } = await run(process.execPath, [PROBE, target], { cwd: PACKAGE_ROOT });
  return (JSON.parse(stdout) as { packages: string[] }).packages;
}

let dist: string;
beforeAll(() => {
  dist = ensureBuilt();
}, 300_000);

describe('the package root', () => {
  it('loads no Kafka client, binlog reader, Avro library or metrics registry', async () => {
    const loaded = await loadedBy(pathToFileURL(join(dist, 'index.js')).href);
    for (const name of FORBIDDEN_AT_ROOT) expect(loaded, `the root loads ${name}`).not.toContain(name);
  }, SLOW);

  it('is told apart from the parts that do load them (the probe sees what it looks for)', async () => {
    const sink = await loadedBy(pathToFileURL(join(dist, 'sink/index.js')).href);
    for (const name of ['kafkajs', 'prom-client', 'avsc']) expect(sink).toContain(name);
    expect(await loadedBy(pathToFileURL(join(dist, 'relay/index.js')).href)).toContain('@vlasky/zongji');
  }, SLOW);

  it('exports what an application calls and nothing else', async () => {
    const names = Object.keys((await import(pathToFileURL(join(dist, 'index.js')).href)) as object).sort();
    expect(names).toEqual([
      // Errors and their codes.
      'CACHE_ERROR_CODES', 'CONFIG_ERROR_CODE', 'ConfigError', 'DecodeError', 'InvalidOutboxEventError', 'MappingError',
      'OUTBOX_ERROR_CODES', 'OutboxCacheError', 'OutboxWriteError', 'ReadError', 'SchemaError', 'ScriptError',
      // Publishing in the application's transaction, versions, the read path.
      'assertInTransaction', 'createLeaseReadThrough', 'createReadThrough', 'isRetriable', 'nextVersion', 'prepareOutboxEvent',
      'publishEvent', 'updateWithVersion', 'withOutboxTransaction',
    ]);
  });
});

describe('package.json exports', () => {
  it('maps every subpath to the compiled src/<part>/index.ts (or src/<part>.ts), opening with TSDoc, with its types', () => {
    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    for (const subpath of subpaths.filter((s) => s !== '.')) {
      const part = subpath.slice(2);
      const target = manifest.exports[subpath];
      const module = [`${part}/index`, part].find((m) => typeof target === 'object' && target.default === `./dist/${m}.js`);
      expect(module, `${subpath} → ./dist/${part}/index.js or ./dist/${part}.js`).toBeDefined();
      expect(target, subpath).toEqual({ types: `./dist/${module}.d.ts`, default: `./dist/${module}.js` });
      const source = join(PACKAGE_ROOT, 'src', `${module}.ts`);
      expect(existsSync(source), `src/${module}.ts`).toBe(true);
      expect(readFileSync(source, 'utf8'), `src/${module}.ts opens with TSDoc`).toMatch(/^\/\*\*\n/);
      for (const file of [`${module}.js`, `${module}.d.ts`]) expect(existsSync(join(dist, file)), `dist/${file}`).toBe(true);
    }
  });

  it('has the parts of the loop as subpaths', () => {
    for (const part of ['outbox', 'cache', 'codec', 'sink', 'relay', 'connect', 'ops', 'audit', 'lab', 'operations', 'orm', 'orm/knex']) {
      expect(subpaths).toContain(`./${part}`);
    }
  });
});

describe('npm pack, installed into an empty project', () => {
  let work: string;
  let project: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'outbox-cache-pack-'));
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: PACKAGE_ROOT });
    const tarball = join(work, stdout.trim().split('\n').pop()!);
    project = join(work, 'app');
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
    // No registry here: the runtime dependencies are the ones this repository installed, linked
    // in, so npm finds them satisfied and installs only the tarball.
    const link = (dep: string): void => {
      mkdirSync(dirname(join(project, 'node_modules', dep)), { recursive: true });
      symlinkSync(join(PACKAGE_ROOT, 'node_modules', dep), join(project, 'node_modules', dep), 'dir');
    };
    for (const dep of Object.keys(manifest.dependencies)) link(dep);
    await run('npm', ['install', '--offline', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', tarball], { cwd: project });
    // The ORMs are optional peers: an app has the one it uses; this one gets them all (after the
    // install, which would prune them as extraneous), so that every ORM subpath imports.
    for (const dep of Object.keys(manifest.peerDependencies ?? {})) link(dep);
  }, 300_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('installs the files the package ships, and its own package.json', () => {
    const installed = join(project, 'node_modules', manifest.name);
    const copy = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as PackageJson;
    expect(copy.exports).toEqual(manifest.exports);
    for (const path of ['dist/index.js', 'dist/cli/main.js', 'schemas/avro/subjects.json', 'connectors/outbox-mysql.json']) {
      expect(existsSync(join(installed, path)), path).toBe(true);
    }
    expect(existsSync(join(installed, 'src')), 'sources are not shipped').toBe(false);
    expect(existsSync(join(installed, 'test')), 'tests are not shipped').toBe(false);
  });

  it('imports every subpath package.json exports, by its public name', async () => {
    const script = `
      const subpaths = ${JSON.stringify(subpaths)};
      const out = {};
      for (const s of subpaths) out[s] = Object.keys(await import(${JSON.stringify(manifest.name)} + s.slice(1))).length;
      console.log(JSON.stringify(out));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: project });
    const counts = JSON.parse(stdout) as Record<string, number>;
    expect(Object.keys(counts).sort()).toEqual([...subpaths].sort());
    for (const [subpath, count] of Object.entries(counts)) expect(count, `${subpath} exports something`).toBeGreaterThan(0);
  }, SLOW);

  it('type-checks an application that imports every subpath', async () => {
    const lines = subpaths.map((s, i) => `import * as m${i} from '${manifest.name}${s.slice(1)}';\nexport const k${i}: string[] = Object.keys(m${i});`);
    lines.push(`import { publishEvent, createReadThrough, OutboxWriteError } from '${manifest.name}';`);
    lines.push('export const typed: [typeof publishEvent, typeof createReadThrough, typeof OutboxWriteError] = [publishEvent, createReadThrough, OutboxWriteError];');
    writeFileSync(join(project, 'app.ts'), lines.join('\n'));
    mkdirSync(join(project, 'node_modules', '@types'), { recursive: true });
    symlinkSync(join(PACKAGE_ROOT, 'node_modules', '@types', 'node'), join(project, 'node_modules', '@types', 'node'), 'dir');
    const tsc = join(PACKAGE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', 'app.ts'];
    const result = await run(process.execPath, [tsc, ...args], { cwd: project }).catch((e: { stdout: string }) => e);
    expect(result.stdout).toBe('');
  }, SLOW);

  it('runs `outbox-cache --help` from the installed bin', async () => {
    const bin = Object.keys(manifest.bin)[0]!;
    const { stdout } = await run(join(project, 'node_modules', '.bin', bin), ['--help'], { cwd: project });
    expect(stdout).toMatch(/^Usage: outbox-cache <command>/);
    expect(stdout).toContain('sink');
  }, SLOW);
});
