/**
 * bench:import — what `import ... from 'outbox-cache'` costs an application: the built package
 * root against the libraries such an application loads anyway (mysql2/promise, ioredis, avsc),
 * each imported in a fresh Node process, the two sides alternating, 15 processes each.
 * Reports the medians of the time the import itself takes (Node's own start-up is the same for
 * both and left out). Target: ratio ≤ 1.3.
 *
 * Last line: {"bench":"import","root_ms":…,"bare_ms":…,"ratio":…}
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBuilt, PACKAGE_ROOT } from './built-package.js';

const RUNS = 15;

/** Milliseconds a fresh process spends importing `specifiers`, in order. */
function importMs(specifiers: readonly string[]): number {
  const script = `
    const t0 = performance.now();
    for (const s of ${JSON.stringify(specifiers)}) await import(s);
    console.log(performance.now() - t0);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: PACKAGE_ROOT, encoding: 'utf8' });
  return Number(out.trim());
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round = (n: number, digits: number) => Number(n.toFixed(digits));

const root = [pathToFileURL(join(ensureBuilt(), 'index.js')).href];
const bare = ['mysql2/promise', 'ioredis', 'avsc'];
// One of each first, unmeasured, so both sides start with the files in the OS cache.
importMs(root);
importMs(bare);

const rootMs: number[] = [];
const bareMs: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const first = i % 2 === 0;
  if (first) rootMs.push(importMs(root));
  bareMs.push(importMs(bare));
  if (!first) rootMs.push(importMs(root));
  console.log(`run ${String(i + 1).padStart(2)}: root ${rootMs.at(-1)!.toFixed(1)} ms, mysql2/promise + ioredis + avsc ${bareMs.at(-1)!.toFixed(1)} ms`);
}
const rootMedian = median(rootMs);
const bareMedian = median(bareMs);
console.log(JSON.stringify({ bench: 'import', root_ms: round(rootMedian, 1), bare_ms: round(bareMedian, 1), ratio: round(rootMedian / bareMedian, 3) }));
