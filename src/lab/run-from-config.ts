/**
 * The lab as the CLI runs it: options from {@link LabConfig}, a progress display, the table on
 * stdout, and the JSON and HTML files. Resolves to the results.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { chartLibrary, renderReport } from './html-report.js';
import type { LabConfig } from './lab-config.js';
import { progressDisplay } from './progress.js';
import type { LabResult } from './results.js';
import { runLab } from './run-lab.js';
import { labStrategies } from './strategies/index.js';
import { summaryText } from './table.js';

/** Where the lab writes and what stops it. */
export interface LabIo {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable;
  readonly signal: AbortSignal;
  /** Directory of the default report file. */
  readonly cwd: string;
}

/** Default report file name for a run starting at `date`. */
export function defaultReportName(date: Date): string {
  return `outbox-cache-lab-${date.toISOString().replace(/[:.]/g, '-').slice(0, 19)}.html`;
}

/** Runs the lab for `config`; prints the table and where the report is. */
export async function runLabFromConfig(config: LabConfig, io: LabIo): Promise<{ result: LabResult; reportPath: string }> {
  const wanted = new Set(config.strategies);
  const strategies = labStrategies(config).filter((s) => wanted.has(s.name));
  const reportPath = resolve(io.cwd, config.report ?? defaultReportName(new Date()));
  const library = await chartLibrary();
  const progress = progressDisplay(io.stdout);
  const result = await runLab({
    strategies, durationMs: config.duration, writers: config.writers, readers: config.readers, keys: config.keys,
    hotKeys: config.hotKeys, hotShare: config.hotPercent / 100, fillDelayMs: config.fillDelayMs,
    writePauseMs: config.writePauseMs, readPauseMs: config.readPauseMs,
    faults: config.replica ? config.faults : new Set([...config.faults].filter((f) => f !== 'replica-reads')),
    replicaDelaySeconds: config.replica ? config.replicaDelayS : undefined,
    mysqlUrl: config.mysqlUrl, signal: io.signal,
    say: (text) => void io.stdout.write(`${text}\n`),
    warn: (text) => void io.stderr.write(`lab: ${text}\n`),
    onProgress: (p) => progress.update(p),
  }).finally(() => progress.done());
  io.stdout.write(`\n${summaryText(result)}`);
  if (config.json) await writeFile(resolve(io.cwd, config.json), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(reportPath, renderReport(result, library));
  io.stdout.write(`\nReport: ${reportPath}\n`);
  return { result, reportPath };
}
