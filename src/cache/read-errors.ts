/**
 * Errors of the read path that are not Redis failures: a loader that broke its contract or did
 * not settle in time, a value the codec cannot store, a bad per-read option.
 */
import { OutboxCacheError } from '../errors.js';

/**
 * A read failed for a reason of the read path itself. Codes: `READ_LOADER_INVALID` (the loader
 * returned something other than its contract allows; not retriable), `READ_LOAD_TIMEOUT` (the
 * loader did not settle within `loadTimeoutMs`; retriable), `READ_VALUE_UNENCODABLE` (reported
 * through `onFillError`: the loaded value could not be encoded, so it was not cached),
 * `READ_OPTIONS_INVALID` (a bad per-read option).
 */
export class ReadError extends OutboxCacheError {}
