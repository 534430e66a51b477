/**
 * Day-2 operations on a running deployment (docs/operations.md), as library calls: backfill and
 * rebuild a namespace through the version guard, flush it into tombstones, inspect keys, and read
 * and replay the dead-letter topic. The `outbox-cache` commands of the same names are thin
 * wrappers over these.
 */
export {
  backfillNamespace, BackfillError, type BackfillCounts, type BackfillOptions, type BackfillResult,
} from './backfill.js';
export {
  BackfillRowError, jsonSerializer, type BackfillSpec, type Row, type RowSerializer,
} from './backfill-spec.js';
export { rebuildNamespace, type RebuildOptions, type RebuildResult } from './rebuild.js';
export { flushNamespace, FlushError, type FlushCounts, type FlushOptions, type FlushResult } from './flush.js';
export { inspectKeys, InspectError, type InspectOptions, type InspectedKey } from './inspect.js';
export { decodeKeyState, verdictOf, type KeyState, type KeptStale, type Verdict } from './key-state.js';
export {
  groupByCode, isSelected, notConsumedReason, parseDeadLetter, parseOffsetRange, replayRecord,
  type DeadLetter, type DeadLetterGroup, type OffsetRange, type ReplaySelection, type SinkSubscription,
} from './dead-letters.js';
export {
  readDeadLetters, replayDeadLetters, DeadLetterToolError,
  type DeadLetterRead, type ReadDeadLettersOptions, type ReplayOptions, type ReplayResult,
} from './dead-letter-topic.js';
