/**
 * Mapping from a decoded outbox event to cache actions: a default that needs no code, and
 * user-supplied functions per aggregate type. Pure; shared by the sink and the binlog relay.
 */
import type { CacheAction } from '../cache/actions.js';
import { CACHE_CHANGE_SCHEMA_NAME, type CacheChange } from '../codec/cache-change.js';
import type { DecodedValue } from '../codec/types.js';
import { MappingError, errorMessage } from '../errors.js';
import type { OutboxEvent } from '../outbox/event.js';
import { MAX_VERSION } from '../cache/stored-value.js';


/** Helpers handed to every mapping function. */
export interface MappingContext {
  /** The configured key prefix (default empty). */
  readonly keyPrefix: string;
  /** Cache key of an aggregate: `<keyPrefix><aggregateType>:<aggregateId>`. */
  key(aggregateType: string, aggregateId: string): string;
  /**
   * What the default mapping would return for this event. With `acceptOtherAggregate`, a
   * CacheChange payload may name another entity or id than the record's aggregate (the default
   * mapping refuses that as `MAPPING_AGGREGATE_MISMATCH`).
   */
  defaultActions(options?: { readonly acceptOtherAggregate?: boolean }): CacheAction[];
}

/**
 * A user mapping for one aggregate type. Returns the cache actions for one event; may throw (the
 * record then goes to the dead-letter topic). Keys must already include the key prefix (use
 * `ctx.key`). Must be pure and deterministic: a replay must produce the same actions.
 */
export type AggregateMapping = (event: OutboxEvent, decoded: DecodedValue, ctx: MappingContext) => readonly CacheAction[];

/**
 * A user mapping module's default export: aggregate type → mapping. Aggregate types not listed
 * use the default mapping. Write it as `export default defineMappings({ user: (e, d, ctx) => [...] })`.
 */
export type MappingModule = Readonly<Record<string, AggregateMapping>>;

/** Identity helper that gives a mapping module its type. */
export function defineMappings<T extends MappingModule>(mappings: T): T {
  return mappings;
}

/** Options of {@link mapEvent}. */
export interface MappingOptions {
  /** Prepended to every key the default mapping builds. Default empty. */
  readonly keyPrefix?: string;
  /**
   * Allowed namespaces: every action key must be `<keyPrefix><namespace>:<rest>` with a namespace
   * in this list. Undefined: the only namespace allowed is the event's own aggregate type.
   */
  readonly namespaces?: readonly string[];
  /** User mappings per aggregate type. */
  readonly mappings?: MappingModule;
}

/** Shape check: the codec decodes by the writer schema, which a subject may have evolved. */
function isCacheChangeValue(value: unknown): value is CacheChange {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.entity === 'string' && typeof v.id === 'string' &&
    (v.operation === 'UPSERT' || v.operation === 'DELETE' || v.operation === 'INVALIDATE') &&
    (v.value === null || v.value === undefined || Buffer.isBuffer(v.value)) &&
    (v.extraKeys === undefined || (Array.isArray(v.extraKeys) && allStrings(v.extraKeys)));
}

function allStrings(items: readonly unknown[]): boolean {
  for (const item of items) if (typeof item !== 'string') return false;
  return true;
}

/** False only when the payload carries a version (number, bigint or text) other than `version`. */
function sameVersion(payloadVersion: unknown, version: bigint): boolean {
  switch (typeof payloadVersion) {
    case 'number':
      // A version above 2^53 - 1 converts to a number of at least 2^53, never to a safe integer.
      return Number.isSafeInteger(payloadVersion) ? Number(version) === payloadVersion : String(payloadVersion) === version.toString();
    case 'bigint':
      return payloadVersion === version;
    case 'string':
      return payloadVersion === version.toString();
    default:
      return true;
  }
}

/**
 * Default mapping. A standard cache-change event writes through (UPSERT with a value), stores
 * "known absent" (DELETE) or invalidates (INVALIDATE, or UPSERT without a value) the key
 * `<keyPrefix><entity>:<id>` at the record's version (entity and id must be the record's aggregate
 * type and id unless `acceptOtherAggregate`), and revokes the leases of each extra key
 * (`<keyPrefix><extraKey>`: derived keys have no per-aggregate version). Any other event
 * invalidates `<keyPrefix><aggregateType>:<aggregateId>` at the record's version.
 */
export function defaultActions(event: OutboxEvent, decoded: DecodedValue, keyPrefix = '', acceptOtherAggregate = false): CacheAction[] {
  if (decoded.writerSchemaName !== CACHE_CHANGE_SCHEMA_NAME) {
    return [{ kind: 'invalidate', key: `${keyPrefix}${event.aggregateType}:${event.aggregateId}`, version: event.version }];
  }
  const change = decoded.value;
  if (!isCacheChangeValue(change)) {
    throw new MappingError(`${CACHE_CHANGE_SCHEMA_NAME} value lacks entity, id or operation`, { code: 'MAPPING_BAD_CACHE_CHANGE' });
  }
  // The header is the contract's version; a payload that disagrees contradicts itself.
  const payloadVersion = change.version;
  if (!sameVersion(payloadVersion, event.version)) {
    throw new MappingError(`payload version ${String(payloadVersion)} differs from header version ${event.version}`, {
      code: 'MAPPING_VERSION_MISMATCH',
    });
  }
  // The record's version orders writes of its own aggregate only: a payload naming another
  // aggregate would write that key at a version from a foreign sequence.
  if (!acceptOtherAggregate && (change.entity !== event.aggregateType || change.id !== event.aggregateId)) {
    throw new MappingError(
      `${CACHE_CHANGE_SCHEMA_NAME} names ${JSON.stringify(`${change.entity}:${change.id}`.slice(0, 200))}, not the record's aggregate ` +
        `${JSON.stringify(`${event.aggregateType}:${event.aggregateId}`.slice(0, 200))}; a mapping for '${event.aggregateType}' may accept it`,
      { code: 'MAPPING_AGGREGATE_MISMATCH' },
    );
  }
  const key = `${keyPrefix}${change.entity}:${change.id}`;
  const version = event.version;
  const main: CacheAction =
    change.operation === 'DELETE' ? { kind: 'delete', key, version }
    : change.operation === 'UPSERT' && change.value ? { kind: 'upsert', key, version, value: change.value }
    : { kind: 'invalidate', key, version };
  const actions: CacheAction[] = [main];
  for (const extraKey of change.extraKeys ?? []) actions.push({ kind: 'revoke-leases', key: `${keyPrefix}${extraKey}` });
  return actions;
}

/**
 * Maps one decoded event to cache actions with the user's mapping for its aggregate type, or the
 * default. Throws a non-retriable {@link MappingError} when the mapping throws, returns something
 * that is not a list of valid actions, or names a key outside the allowed namespaces.
 */
export function mapEvent(event: OutboxEvent, decoded: DecodedValue, options: MappingOptions = {}): CacheAction[] {
  const keyPrefix = options.keyPrefix ?? '';
  const custom = options.mappings && Object.hasOwn(options.mappings, event.aggregateType) ? options.mappings[event.aggregateType] : undefined;
  let actions: readonly unknown[];
  try {
    if (custom) {
      const ctx: MappingContext = {
        keyPrefix,
        key: (type, id) => `${keyPrefix}${type}:${id}`,
        defaultActions: (o) => defaultActions(event, decoded, keyPrefix, o?.acceptOtherAggregate ?? false),
      };
      const result: unknown = custom(event, decoded, ctx);
      if (!Array.isArray(result)) throw new MappingError('mapping did not return an array', { code: 'MAPPING_BAD_RESULT' });
      actions = result;
    } else {
      actions = defaultActions(event, decoded, keyPrefix);
    }
  } catch (err) {
    if (err instanceof MappingError) throw err;
    throw new MappingError(`mapping for '${event.aggregateType}' failed: ${errorMessage(err)}`, {
      code: 'MAPPING_FAILED',
      cause: err,
    });
  }
  // The sink maps every record through here: validate in place, allocating nothing.
  for (const action of actions) {
    if (custom) checkShape(action);
    const key = (action as CacheAction).key;
    const allowed = options.namespaces ? inNamespaces(key, keyPrefix, options.namespaces) : inNamespace(key, keyPrefix, event.aggregateType);
    if (!allowed) {
      throw new MappingError(`key '${key}' is outside the allowed namespaces (${(options.namespaces ?? [event.aggregateType]).join(', ')})`, {
        code: 'MAPPING_KEY_OUTSIDE_NAMESPACE',
      });
    }
  }
  return actions as CacheAction[];
}

function invalidAction(why: string): never {
  throw new MappingError(`mapping returned an invalid action: ${why}`, { code: 'MAPPING_BAD_RESULT' });
}

/** Checks what a user mapping returned (the default mapping builds valid actions by construction). */
function checkShape(action: unknown): void {
  const a = action as Partial<Record<string, unknown>> | null;
  if (typeof a !== 'object' || a === null) invalidAction('not an object');
  if (typeof a.key !== 'string' || a.key === '') invalidAction('key must be a non-empty string');
  if (a.kind === 'invalidate' || a.kind === 'upsert' || a.kind === 'delete') {
    if (typeof a.version !== 'bigint' || a.version < 1n || a.version > MAX_VERSION) invalidAction(`version of '${a.key}' must be a bigint in [1, 2^63-1]`);
    if (a.kind === 'upsert' && !Buffer.isBuffer(a.value)) invalidAction(`upsert of '${a.key}' needs a Buffer value`);
  } else if (a.kind !== 'revoke-leases') {
    invalidAction(`unknown kind ${JSON.stringify(a.kind)}`);
  }
}

/** True when `key` is `<keyPrefix><namespace>:<something non-empty>`. */
function inNamespace(key: string, keyPrefix: string, namespace: string): boolean {
  const colon = keyPrefix.length + namespace.length;
  return key.length > colon + 1 && key.startsWith(keyPrefix) && key.startsWith(namespace, keyPrefix.length) && key.charCodeAt(colon) === 58;
}

/** True when `key` is `<keyPrefix><namespace>:<something>` for one of `namespaces`. */
export function inNamespaces(key: string, keyPrefix: string, namespaces: readonly string[]): boolean {
  for (const namespace of namespaces) if (inNamespace(key, keyPrefix, namespace)) return true;
  return false;
}

