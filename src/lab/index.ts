/**
 * The strategy lab (DESIGN.md §8): every cache-consistency strategy the seed articles argue
 * about, and this project's, under one workload and one fault schedule on a real MariaDB and
 * Redis, measured from ground truth. `outbox-cache lab` runs it; this is its library surface.
 */
export { runLab, type LabOptions, type LabProgress } from './run-lab.js';
export { runLabFromConfig, defaultReportName, type LabIo } from './run-from-config.js';
export { parseLabConfig, LAB_SETTINGS, type LabConfig } from './lab-config.js';
export { labStrategies, STRATEGY_NAMES, type StrategyTunables } from './strategies/index.js';
export type { StrategyDefinition, LabStrategy, StrategyContext, StrategyRead, KeyState, BackgroundWorker } from './strategy.js';
export { classifyCheck, ninesOf, type CheckOutcome, type Nines } from './audit-check.js';
export { defaultFaultSchedule, FAULT_KINDS, type FaultKind, type FaultEvent } from './faults.js';
export type { LabResult, StrategyResult, CheckResult } from './results.js';
export { renderReport, chartLibrary } from './html-report.js';
export { resultTable, summaryText } from './table.js';
