/**
 * `outbox-cache/demo`: the self-contained demonstration behind `npm run demo` (local MariaDB,
 * Redis and mock Kafka, writers and readers racing, guarded vs plain cache), and the demo writer
 * the compose stack runs.
 */
export { runDemo, type DemoOptions } from './demo.js';
export type { DemoSummary, CacheSummary as DemoCacheSummary } from './report.js';
export { runDemoWriter, type DemoWriterOptions, type DemoWriterResult } from './writer.js';
export { LocalSchemaRegistry, LOCAL_SCHEMA_ID_BASE } from './local-registry.js';
