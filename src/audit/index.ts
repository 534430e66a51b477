/**
 * The consistency auditor (`outbox-cache/audit`): measures, per delay M, the fraction of outbox
 * events whose cache keys were consistent M after the commit ("N nines within M"), from the
 * event stream (Kafka or the embedded relay), optionally repairing through the guard; and a
 * sampling mode that compares cached keys with database rows. See docs/auditor.md.
 */
export { classify, nines, type CheckOutcome, type CheckResult, type FoundState } from './check.js';
export { Auditor, type AuditedKey, type AuditorOptions, type AuditSummary, type DelaySummary, type HeaderReader } from './auditor.js';
export { CheckSchedule, type CheckScheduleOptions, type Scheduled } from './schedule.js';
export { SlidingWindow, type WindowStats } from './window.js';
export { PartitionProgress } from './offsets.js';
export type { InconsistentKey } from './recent.js';
export { createAuditMetrics, type AuditMetrics } from './metrics.js';
export { RedisHeaderReader } from './redis-headers.js';
export { createKeyMapper, type KeyMapper } from './keys.js';
export { startAuditConsumer, type AuditConsumerOptions, type RunningAuditConsumer } from './consumer.js';
export { startAuditSession, type AuditSession, type AuditSessionOptions } from './session.js';
export { runAuditFromConfig, type RunAuditOptions } from './from-config.js';
export { startEmbeddedAudit, type EmbeddedAudit, type EmbeddedAuditOptions, type RelaySettingsForAudit } from './embedded.js';
export { auditReport, writeReport } from './report.js';
export {
  AUDIT_SETTINGS, AUDIT_CHECK_SETTINGS, EMBEDDED_AUDIT_SETTINGS, parseAuditConfig, parseEmbeddedAuditConfig,
  type AuditConfig, type EmbeddedAuditConfig,
} from './settings.js';
export { sampleKeys, type SampleOptions, type SampleResult, type StaleKey } from './sample.js';
export { runSampleFromConfig } from './sample-run.js';
export { SAMPLE_SETTINGS, parseSampleConfig, type SampleConfig } from './sample-settings.js';
