/**
 * The strategy lab as a benchmark: every strategy for BENCH_LAB_DURATION (default 30s) on a
 * MariaDB and Redis started here, with the default fault schedule (app crashes, Redis errors, a
 * Redis restart, relays / consumer / binlog tail killed and restarted; BENCH_LAB_REPLICA=1 adds
 * reads from a lagging replica). Prints the lab's table and writes its report to a temporary
 * directory. Last output line:
 * {"bench":"lab","ours_stale_forever":…,"ours_inconsistent_10s":…,"ours_nines_1s":…,
 *  "worst_other_stale_forever":…,"strategies":…}
 * Target: ours 0 stale-forever keys and 0 inconsistent checks at 10 s, at least one seed
 * strategy with stale-forever keys > 0. ours_nines_1s is a lower bound when no 1 s check failed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLabConfig } from '../src/lab/lab-config.js';
import { checkAt } from '../src/lab/results.js';
import { runLabFromConfig } from '../src/lab/run-from-config.js';

const dir = mkdtempSync(join(tmpdir(), 'outbox-cache-bench-lab-'));
const config = parseLabConfig({}, [
  '--duration', process.env.BENCH_LAB_DURATION ?? '30s',
  '--replica', process.env.BENCH_LAB_REPLICA === '1' ? 'true' : 'false',
  '--report', join(dir, 'lab.html'), '--json', join(dir, 'lab.json'),
]);
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
const { result } = await runLabFromConfig(config, { stdout: process.stdout, stderr: process.stderr, signal: stop.signal, cwd: dir });
const ours = result.strategies.find((s) => s.ours);
const others = result.strategies.filter((s) => !s.ours);
console.log(JSON.stringify({
  bench: 'lab',
  ours_stale_forever: ours?.staleForever ?? null,
  ours_inconsistent_10s: ours ? checkAt(ours, 10_000)?.inconsistent ?? null : null,
  ours_nines_1s: ours ? checkAt(ours, 1000)?.nines ?? null : null,
  worst_other_stale_forever: Math.max(0, ...others.map((s) => s.staleForever)),
  strategies: result.strategies.length,
}));
