/**
 * Shared options of the lab's integration tests: a short run on the shared test MariaDB (the lab
 * works in a database of its own and starts its own Redis), short auditor horizons.
 */
import { inject } from 'vitest';
import type { LabOptions } from '../../src/lab/run-lab.js';
import type { FaultKind } from '../../src/lab/faults.js';
import type { StrategyDefinition } from '../../src/lab/strategy.js';

/** Options of a short, quiet lab run; `overrides` win. */
export function shortRun(strategies: StrategyDefinition[], faults: FaultKind[], overrides: Partial<LabOptions> = {}): LabOptions {
  return {
    strategies, faults: new Set(faults), durationMs: 3000, writers: 1, readers: 3, keys: 10, hotKeys: 2, hotShare: 0.8,
    fillDelayMs: 20, writePauseMs: 30, readPauseMs: 5, horizonsMs: [500, 2000], settleTimeoutMs: 20_000,
    mysqlUrl: inject('mysqlUrl'), signal: new AbortController().signal, say: () => {}, warn: () => {},
    ...overrides,
  };
}
