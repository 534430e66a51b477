/**
 * The demo's concurrent workload: writers that commit updates to random keys, and, per cache, the
 * same number of readers reading random keys. Every read is checked against the commits that had
 * returned before it started (see stats.ts). Runs until `stop` aborts.
 */
import { sleep } from '../retry.js';
import type { DemoCache } from './caches.js';
import { CacheTally, CommitBook } from './stats.js';

/** Options of {@link runWorkload}. Durations in ms. */
export interface WorkloadOptions {
  readonly writers: number;
  /** Readers per cache. */
  readonly readers: number;
  /** Keys are 1..keys, picked uniformly. */
  readonly keys: number;
  /** Commits an update of `id` and resolves to its new version. */
  readonly write: (id: number) => Promise<bigint>;
  readonly caches: readonly DemoCache[];
  readonly stop: AbortSignal;
  /** Pause of a writer after each write. */
  readonly writePauseMs: number;
  /** Pause of a reader after each read. */
  readonly readPauseMs: number;
  /** Told about failed reads and writes (the loop goes on). */
  readonly onError: (err: unknown, what: 'read' | 'write') => void;
  /** Monotonic clock, ms. Default performance.now. */
  readonly now?: () => number;
  readonly random?: () => number;
}

/** The live state of a running workload, for progress lines and the summary. */
export interface Workload {
  readonly book: CommitBook;
  /** One per cache, in the order of `caches`. */
  readonly tallies: readonly CacheTally[];
  writes(): number;
  errors(): number;
  /** Resolves once every writer and reader has stopped after `stop` aborted. */
  readonly done: Promise<void>;
}

/** Starts the writers and readers. */
export function runWorkload(options: WorkloadOptions): Workload {
  const now = options.now ?? (() => performance.now());
  const random = options.random ?? Math.random;
  const pick = (): number => 1 + Math.floor(random() * options.keys);
  const book = new CommitBook();
  const tallies = options.caches.map(() => new CacheTally());
  let writes = 0;
  let errors = 0;

  async function writer(): Promise<void> {
    while (!options.stop.aborted) {
      const id = pick();
      try {
        const version = await options.write(id);
        book.committed(id, version, now());
        writes += 1;
        await Promise.all(options.caches.map((cache) => cache.afterCommit(id)));
      } catch (err) {
        errors += 1;
        options.onError(err, 'write');
      }
      await sleep(options.writePauseMs, options.stop);
    }
  }

  async function reader(cache: DemoCache, tally: CacheTally): Promise<void> {
    while (!options.stop.aborted) {
      const id = pick();
      const startedAtMs = now();
      const committedBefore = book.latest(id);
      try {
        const read = await cache.read(id);
        tally.record({ id, hit: read.hit, refused: read.refused, version: read.version, startedAtMs, committedBefore }, book);
      } catch (err) {
        errors += 1;
        options.onError(err, 'read');
      }
      await sleep(options.readPauseMs, options.stop);
    }
  }

  const loops: Promise<void>[] = [];
  for (let i = 0; i < options.writers; i++) loops.push(writer());
  options.caches.forEach((cache, c) => {
    for (let i = 0; i < options.readers; i++) loops.push(reader(cache, tallies[c] as CacheTally));
  });
  return { book, tallies, writes: () => writes, errors: () => errors, done: Promise.all(loops).then(() => undefined) };
}
