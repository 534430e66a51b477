/**
 * The lab's workload, identical for every strategy: writers committing new values of random
 * items, readers reading random items, both with hot/cold skew, until `stop` aborts. Each loop
 * belongs to one strategy; a strategy's failures count against it and the loop goes on.
 */
import { errorMessage } from '../errors.js';
import { sleep } from '../retry.js';
import type { StrategyTally, TruthBook } from './measure.js';
import type { LabStrategy } from './strategy.js';

/** Key choice: `hotKeys` of the `keys` get `hotShare` of the operations. */
export interface KeySkew {
  readonly keys: number;
  readonly hotKeys: number;
  /** In [0, 1]. */
  readonly hotShare: number;
}

/** Picks an id in 1..keys: a hot one (1..hotKeys) with probability hotShare, else a cold one. */
export function pickKey(skew: KeySkew, random: () => number): number {
  const hot = Math.max(1, Math.min(skew.hotKeys, skew.keys));
  if (hot >= skew.keys || random() < skew.hotShare) return 1 + Math.floor(random() * hot);
  return hot + 1 + Math.floor(random() * (skew.keys - hot));
}

/** One strategy's share of the workload. */
export interface WorkloadLane {
  readonly strategy: LabStrategy;
  readonly tally: StrategyTally;
  readonly book: TruthBook;
  /** Keeps up to a few error messages of the lane. */
  readonly sample: (message: string) => void;
}

/** Options of {@link runWorkload}. Durations in ms. */
export interface WorkloadOptions {
  readonly lanes: readonly WorkloadLane[];
  readonly writers: number;
  readonly readers: number;
  readonly skew: KeySkew;
  readonly writePauseMs: number;
  readonly readPauseMs: number;
  readonly stop: AbortSignal;
  /** The lab clock, ms since the workload began. */
  readonly now: () => number;
  readonly random?: () => number;
}

/** Runs every lane's writers and readers; resolves once all stopped after `stop` aborted. */
export async function runWorkload(options: WorkloadOptions): Promise<void> {
  const random = options.random ?? Math.random;
  const { now, stop } = options;

  async function writer(lane: WorkloadLane): Promise<void> {
    while (!stop.aborted) {
      const id = pickKey(options.skew, random);
      const startedAt = now();
      try {
        await lane.strategy.write(id);
        lane.tally.writes += 1;
        lane.tally.writeLatencyMs.push(now() - startedAt);
      } catch (err) {
        lane.tally.writeErrors += 1;
        lane.sample(`write: ${errorMessage(err)}`);
      }
      await sleep(options.writePauseMs * (0.5 + random()), stop);
    }
  }

  async function reader(lane: WorkloadLane): Promise<void> {
    while (!stop.aborted) {
      const id = pickKey(options.skew, random);
      const startedAt = now();
      const committedBefore = lane.book.latest(id);
      try {
        const read = await lane.strategy.read(id);
        lane.tally.read(lane.book, id, read.version, read.hit, startedAt, committedBefore);
      } catch (err) {
        lane.tally.readErrors += 1;
        lane.sample(`read: ${errorMessage(err)}`);
      }
      await sleep(options.readPauseMs * (0.5 + random()), stop);
    }
  }

  const loops: Promise<void>[] = [];
  for (const lane of options.lanes) {
    for (let i = 0; i < options.writers; i++) loops.push(writer(lane));
    for (let i = 0; i < options.readers; i++) loops.push(reader(lane));
  }
  await Promise.all(loops);
}
