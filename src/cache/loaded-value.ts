/**
 * Checks what a loader returned before anything reaches Redis (pure). A version must be an
 * integer in 0 .. 2^63-1 given as a bigint, a safe integer or canonical decimal text: anything
 * else ('07', '3.00', 1.5, -1, 2^63, a missing version) would be stored non-canonically or
 * compared wrongly, so it is a loader error naming the loader and the key.
 */
import { ReadError } from './read-errors.js';
import { MAX_VERSION, isCanonicalVersion } from './stored-value.js';

/** What a loader returned, checked: the version and the value (undefined when absent). */
export interface CheckedLoad {
  readonly version: bigint;
  /** undefined: the row is absent (cached as known absent). */
  readonly value: unknown;
}

/**
 * Checks a loader's result. `versioned`: a value must come with a version (false for keys without
 * a per-aggregate version, whose version is 0 unless given). Throws ReadError `READ_LOADER_INVALID`.
 */
export function checkLoaded(loaded: unknown, versioned: boolean, loaderName: string, key: string): CheckedLoad {
  const invalid = (what: string): ReadError =>
    new ReadError(`loader '${loaderName}' ${what} for key '${key}'`, { code: 'READ_LOADER_INVALID' });
  if (loaded === undefined) throw invalid('returned undefined; return null (absent) or { version, value }');
  if (loaded === null) return { version: 0n, value: undefined };
  if (typeof loaded !== 'object') throw invalid(`returned a ${typeof loaded}; return null (absent) or { version, value }`);
  const result = loaded as { version?: unknown; value?: unknown; absent?: unknown };
  const version = (): bigint => {
    if (result.version === undefined) return 0n;
    const checked = checkedVersion(result.version);
    if (checked === undefined) throw invalid(`returned version ${describe(result.version)}, not an integer in 0 .. 2^63-1 (a bigint, a safe integer or canonical decimal text)`);
    return checked;
  };
  if (result.absent === true) return { version: version(), value: undefined };
  if (!('value' in result) || result.value === undefined) {
    throw invalid('returned no value; return null or { absent: true } for an absent row');
  }
  if (versioned && result.version === undefined) throw invalid('returned a value without a version');
  return { version: version(), value: result.value };
}

function checkedVersion(version: unknown): bigint | undefined {
  if (typeof version === 'bigint') return version >= 0n && version <= MAX_VERSION ? version : undefined;
  if (typeof version === 'number') return Number.isSafeInteger(version) && version >= 0 ? BigInt(version) : undefined;
  if (typeof version === 'string') return isCanonicalVersion(version) ? BigInt(version) : undefined;
  return undefined;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') return String(value);
  return `of type ${value === null ? 'null' : typeof value}`;
}
