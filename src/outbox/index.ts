/**
 * `outbox-cache/outbox`: the outbox writer (DESIGN.md §2) with its table's life cycle. The
 * publishing calls are also at the package root; this entry point adds what a deployment script
 * or an ORM adapter needs: creating and checking the table, purging kept rows, the limits an event
 * is held to, and the topic and subject names an aggregate type maps to.
 */
export {
  publishEvent, withOutboxTransaction, assertInTransaction, isRetriableSqlError, type OutboxWriterOptions, type PublishFn,
} from './writer.js';
export {
  prepareOutboxEvent, InvalidOutboxEventError, OUTBOX_LIMITS, type NewOutboxEvent, type OutboxEventProblem,
} from './validate.js';
export { updateWithVersion } from './version.js';
export { outboxTopic, outboxSubject, AGGREGATE_TYPE_PATTERN, type OutboxEvent } from './event.js';
export { migrateOutbox, type MigrateResult } from './migrate.js';
export { purgeOutbox, type PurgeOptions, type PurgeResult } from './purge.js';
export { DEFAULT_OUTBOX_TABLE, type SqlParam } from './sql.js';
export { OUTBOX_ERROR_CODES, type OutboxErrorCode } from '../error-codes.js';
