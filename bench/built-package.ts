/**
 * The compiled package (dist/) that the import benchmark and the package tests load as a user
 * would: rebuilt first when any source is newer than it, so they never measure a stale build.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root. */
export const PACKAGE_ROOT = resolve(import.meta.dirname, '..');

const INPUTS = ['src', 'schemas', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestMtime(join(path, name))), stat.mtimeMs);
}

/** Runs `npm run build` unless dist/index.js is newer than every source; returns dist's path. */
export function ensureBuilt(): string {
  const entry = join(PACKAGE_ROOT, 'dist/index.js');
  const newest = Math.max(...INPUTS.map((p) => newestMtime(join(PACKAGE_ROOT, p))));
  if (!existsSync(entry) || statSync(entry).mtimeMs < newest) {
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: PACKAGE_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return join(PACKAGE_ROOT, 'dist');
}
