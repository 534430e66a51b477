/**
 * Static checks of the Dockerfile and .dockerignore: every file copied from the build context
 * exists and is not ignored; the build stage has everything `npm run build` reads before it runs;
 * what the runtime stage takes from the build stage is what the build produces (tsconfig.build.json:
 * rootDir → outDir); the runtime stage has the files the compose commands read.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, exists, loadCompose, nodeInvocations } from './compose-model.js';

interface Instruction {
  readonly op: string;
  readonly args: string;
  readonly line: number;
}
interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (pending === '' && (line.trim() === '' || line.trim().startsWith('#'))) return;
    if (pending === '') start = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = (pending + line).trim();
    pending = '';
    const [op = '', ...rest] = full.split(/\s+/);
    const instruction = { op: op.toUpperCase(), args: rest.join(' '), line: start };
    if (instruction.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!m) throw new Error(`Dockerfile line ${start}: bad FROM`);
      stages.push({ image: m[1]!, name: m[2], instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`Dockerfile line ${start}: ${op} before FROM`);
      stage.instructions.push(instruction);
    }
  });
  return stages;
}

/** COPY's flags, sources and destination (JSON-array form not used in this Dockerfile). */
function copyParts(args: string): { from?: string; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { ...(from ? { from } : {}), sources: paths.slice(0, -1), dest: paths.at(-1)! };
}

/** Context paths a COPY source names (a `*` in the last segment is expanded). */
function expand(source: string): string[] {
  const clean = source.replace(/\/$/, '');
  if (!clean.includes('*')) return [clean];
  const dir = posix.dirname(clean);
  const pattern = new RegExp(`^${posix.basename(clean).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
  return readdirSync(join(ROOT, dir)).filter((f) => pattern.test(f)).map((f) => posix.join(dir, f));
}

const IGNORE = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

/** True when .dockerignore keeps `path` out of the context (exact entries, dirs and `*.ext`). */
function ignored(path: string): boolean {
  return IGNORE.some((p) => {
    if (p.startsWith('*.')) return path.endsWith(p.slice(1));
    return path === p || path.startsWith(`${p}/`);
  });
}

const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const build = stages.find((s) => s.name === 'build');
const runtime = stages.at(-1)!;
const workdir = (stage: Stage): string => stage.instructions.findLast((i) => i.op === 'WORKDIR')?.args ?? '/';

/**
 * Where a COPY puts a context path, relative to WORKDIR: a directory's contents go into `dest`
 * (so the directory lands at `dest`), a file into `dest/` under its own name or at `dest`.
 */
function target(source: string, dest: string, isDirectory: boolean): string {
  const base = dest.replace(/^\.\//, '').replace(/\/$/, '');
  if (isDirectory) return base;
  return dest.endsWith('/') ? posix.join(base, posix.basename(source)) : base;
}

/** Paths (relative to the stage's WORKDIR) copied from the context into `stage` before `index`. */
function copiedBefore(stage: Stage, index: number): string[] {
  return stage.instructions.slice(0, index).flatMap((i) => {
    if (i.op !== 'COPY') return [];
    const { from, sources, dest } = copyParts(i.args);
    if (from) return [];
    return sources.flatMap(expand).map((s) => target(s, dest, statSync(join(ROOT, s)).isDirectory()));
  });
}

describe('Dockerfile', () => {
  it('has a build stage and a runtime stage on Node 22, the runtime not running as root', () => {
    expect(build).toBeDefined();
    for (const s of stages) expect(s.image).toMatch(/^node:22[\w.-]*$/);
    expect(runtime.instructions.findLast((i) => i.op === 'USER')?.args).toBe('node');
  });

  it('copies only context files that exist and that .dockerignore lets through', () => {
    for (const stage of stages) {
      for (const i of stage.instructions.filter((x) => x.op === 'COPY')) {
        const { from, sources } = copyParts(i.args);
        if (from) continue;
        for (const source of sources) {
          const paths = expand(source);
          expect(paths.length, `line ${i.line}: ${source} matches files`).toBeGreaterThan(0);
          for (const p of paths) {
            expect(exists(p), `line ${i.line}: ${p} exists`).toBe(true);
            expect(ignored(p), `line ${i.line}: ${p} is excluded by .dockerignore`).toBe(false);
          }
        }
      }
    }
  });

  it('keeps host builds, dependencies and demo credentials out of the context', () => {
    for (const p of ['node_modules', 'dist', '.git', 'connectors/compose/mysql.env']) expect(ignored(p), p).toBe(true);
  });

  it('gives `npm ci` and `npm run build` every file they read before running them', () => {
    const steps = build!.instructions;
    const ci = steps.findIndex((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args));
    const run = steps.findIndex((i) => i.op === 'RUN' && /\bnpm run build\b/.test(i.args));
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(run).toBeGreaterThan(ci);
    expect(copiedBefore(build!, ci)).toEqual(expect.arrayContaining(['package.json', 'package-lock.json']));

    // What the build script reads: tsc's project (and what it extends and includes), node's scripts.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const script = pkg.scripts.build!;
    const project = /tsc -p (\S+)/.exec(script)?.[1];
    expect(project).toBe('tsconfig.build.json');
    const tsconfig = JSON.parse(readFileSync(join(ROOT, project!), 'utf8')) as { extends?: string; include: string[] };
    const needed = [project!, ...(tsconfig.extends ? [posix.normalize(tsconfig.extends)] : []), ...tsconfig.include];
    needed.push(...[...script.matchAll(/\bnode (\S+)/g)].map((m) => m[1]!));
    const copied = copiedBefore(build!, run);
    for (const n of needed) expect(copied, `${n} is copied before npm run build`).toContain(n);
  });

  it('takes from the build stage only what the build produces', () => {
    const tsBuild = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { rootDir: string; outDir: string } };
    const buildDir = workdir(build!);
    const produced = new Set([
      posix.join(buildDir, tsBuild.compilerOptions.outDir), // tsc: rootDir src → outDir dist
      posix.join(buildDir, 'node_modules'), // npm ci, then npm prune --omit=dev
      ...copiedBefore(build!, build!.instructions.length).map((p) => posix.join(buildDir, p)),
    ]);
    const fromBuild = runtime.instructions.filter((i) => i.op === 'COPY' && copyParts(i.args).from === 'build');
    expect(fromBuild.length).toBeGreaterThan(0);
    for (const i of fromBuild) {
      for (const s of copyParts(i.args).sources) expect(produced.has(s.replace(/\/$/, '')), `line ${i.line}: ${s}`).toBe(true);
    }
    expect(build!.instructions.some((i) => i.op === 'RUN' && /npm prune --omit=dev/.test(i.args))).toBe(true);
  });

  it('has in the runtime stage the entry point and every file the compose commands read', () => {
    const runtimeFiles = new Set<string>();
    for (const i of runtime.instructions.filter((x) => x.op === 'COPY')) {
      const { from, sources, dest } = copyParts(i.args);
      for (const s of from ? sources : sources.flatMap(expand)) {
        const isDirectory = from ? s.endsWith('/') : statSync(join(ROOT, s)).isDirectory();
        runtimeFiles.add(target(s, dest, isDirectory));
      }
    }
    const covered = (p: string): boolean => [...runtimeFiles].some((f) => p === f || p.startsWith(`${f}/`));
    expect(covered('dist/cli/main.js')).toBe(true);
    expect(covered('schemas/avro/subjects.json'), 'schemas push reads schemas/avro').toBe(true);
    const compose = loadCompose();
    for (const run of nodeInvocations(compose.services.setup!)) {
      for (const arg of run.filter((a) => /\.json$/.test(a))) {
        expect(covered(arg), `${arg} is in the image`).toBe(true);
        expect(exists(arg)).toBe(true);
      }
    }
    expect(runtime.instructions.find((i) => i.op === 'CMD')?.args).toContain('dist/cli/main.js');
  });
});
