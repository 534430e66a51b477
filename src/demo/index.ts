/**
 * `outbox-cache/demo`: the demo writer the compose stack runs (a steady trickle of outbox events)
 * and the in-process stand-in for the Schema Registry the lab uses. `npm run demo` runs the
 * strategy lab (`outbox-cache/lab`).
 */
export { runDemoWriter, type DemoWriterOptions, type DemoWriterResult } from './writer.js';
export { LocalSchemaRegistry, LOCAL_SCHEMA_ID_BASE } from './local-registry.js';
