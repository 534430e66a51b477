import { OutboxCacheError } from '../errors.js';

/**
 * Errors of the binlog relay: a binlog or MySQL connection lost (retriable), or a state the relay
 * cannot resolve on its own (non-retriable), such as a stored position whose binlog file the
 * server has purged. Codes start with `RELAY_`.
 */
export class RelayError extends OutboxCacheError {}
