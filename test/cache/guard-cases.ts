/**
 * The version guard's rules (DESIGN.md §4, guard v2) as one table, run against the pure
 * TypeScript rule (guard-rule.test.ts) and the Lua scripts on a real Redis (guard-lua.test.ts),
 * so the two cannot drift. States are written in the stored layout: `E5:old` entry, `A5:` known
 * absent, `T5:` tombstone, `T5:1000:4:old` tombstone keeping v4's bytes invalidated at 1000 ms,
 * `L5:tok` lease with floor 5, null for a missing key (never written, expired or evicted);
 * anything else is foreign data. `{now}` in an expected state stands for the clock at the op.
 */
import type { GuardOp } from '../../src/cache/guard-rule.js';

/** One rule: the key's state before, the op, the outcome and the state after. */
export interface GuardCase {
  readonly name: string;
  readonly before: string | null;
  readonly op: GuardOp;
  readonly outcome: 'applied' | 'stale';
  readonly after: string | null;
}

const MAX = 2n ** 63n - 1n;
const value = Buffer.from('new');
const inv = (version: bigint): GuardOp => ({ kind: 'invalidate', version });
const keep = (version: bigint): GuardOp => ({ kind: 'invalidate', version, keepBytes: true });
const ups = (version: bigint, v: Buffer = value): GuardOp => ({ kind: 'upsert', version, value: v });
const del = (version: bigint): GuardOp => ({ kind: 'delete', version });
const revoke: GuardOp = { kind: 'revoke-leases' };
const acquire = (token = 'tok'): GuardOp => ({ kind: 'acquire', token });
const release = (token = 'tok'): GuardOp => ({ kind: 'release', token });
/** Fill of a reader holding lease `tok` (or `token`), having read `version`. */
const fill = (version: bigint, token = 'tok'): GuardOp => ({ kind: 'fill', version, value, token });
const fillAbsent = (version: bigint, token = 'tok'): GuardOp => ({ kind: 'fill', version, value: null, token });
/** Fill of a reader that holds no lease (minVersion read over an older entry, or waited out). */
const fillNoLease = (version: bigint): GuardOp => ({ kind: 'fill', version, value });
const flush: GuardOp = { kind: 'flush' };

type Row = [name: string, before: string | null, op: GuardOp, outcome: 'applied' | 'stale', after: string | null];

const sinkRows: Row[] = [
  // missing key: every sink write applies
  ['missing + invalidate', null, inv(5n), 'applied', 'T5:'],
  ['missing + upsert', null, ups(5n), 'applied', 'E5:new'],
  ['missing + delete', null, del(5n), 'applied', 'A5:'],
  ['missing + revoke', null, revoke, 'applied', null],
  // entry at 5: the sink needs > 5
  ['entry + invalidate older', 'E5:old', inv(4n), 'stale', 'E5:old'],
  ['entry + invalidate same (duplicate)', 'E5:old', inv(5n), 'stale', 'E5:old'],
  ['entry + invalidate newer', 'E5:old', inv(6n), 'applied', 'T6:'],
  ['entry + upsert older', 'E5:old', ups(4n), 'stale', 'E5:old'],
  ['entry + upsert same (duplicate)', 'E5:old', ups(5n), 'stale', 'E5:old'],
  ['entry + upsert newer', 'E5:old', ups(6n), 'applied', 'E6:new'],
  ['entry + delete same', 'E5:old', del(5n), 'stale', 'E5:old'],
  ['entry + delete newer', 'E5:old', del(6n), 'applied', 'A6:'],
  ['entry + revoke', 'E5:old', revoke, 'applied', null],
  // known absent at 5: an entry like any other
  ['absent + upsert same', 'A5:', ups(5n), 'stale', 'A5:'],
  ['absent + upsert newer', 'A5:', ups(6n), 'applied', 'E6:new'],
  ['absent + invalidate newer', 'A5:', inv(6n), 'applied', 'T6:'],
  ['absent + delete same', 'A5:', del(5n), 'stale', 'A5:'],
  // tombstone at 5 (v1 form and with kept bytes): the sink needs > 5
  ['tombstone + invalidate older', 'T5:', inv(4n), 'stale', 'T5:'],
  ['tombstone + invalidate same (duplicate)', 'T5:', inv(5n), 'stale', 'T5:'],
  ['tombstone + invalidate newer', 'T5:', inv(6n), 'applied', 'T6:'],
  ['tombstone + upsert same', 'T5:', ups(5n), 'stale', 'T5:'],
  ['tombstone + upsert newer', 'T5:', ups(6n), 'applied', 'E6:new'],
  ['tombstone + delete newer', 'T5:', del(6n), 'applied', 'A6:'],
  ['tombstone + revoke', 'T5:', revoke, 'applied', null],
  ['kept tombstone + upsert newer drops the kept bytes', 'T5:1000:4:old', ups(6n), 'applied', 'E6:new'],
  ['kept tombstone + invalidate same', 'T5:1000:4:old', inv(5n), 'stale', 'T5:1000:4:old'],
  // leases count with their floor; a sink write above it replaces (revokes) the lease
  ['lease floor 0 + invalidate', 'L0:tok', inv(1n), 'applied', 'T1:'],
  ['lease floor 0 + upsert', 'L0:tok', ups(1n), 'applied', 'E1:new'],
  ['lease floor 5 + invalidate same (duplicate of its tombstone)', 'L5:tok', inv(5n), 'stale', 'L5:tok'],
  ['lease floor 5 + upsert older (replay)', 'L5:tok', ups(4n), 'stale', 'L5:tok'],
  ['lease floor 5 + upsert newer', 'L5:tok', ups(6n), 'applied', 'E6:new'],
  ['lease floor 5 + delete newer', 'L5:tok', del(6n), 'applied', 'A6:'],
  ['lease floor 5 + invalidate newer', 'L5:tok', inv(6n), 'applied', 'T6:'],
  ['lease + revoke', 'L5:tok', revoke, 'applied', null],
  // the sink keeps the invalidated bytes (opt-in): the first invalidation's time and version count
  ['keep: entry + invalidate newer', 'E5:a:b', keep(6n), 'applied', 'T6:{now}:5:a:b'],
  ['keep: entry + invalidate same', 'E5:old', keep(5n), 'stale', 'E5:old'],
  ['keep: kept tombstone + invalidate newer', 'T5:1000:4:old', keep(6n), 'applied', 'T6:1000:4:old'],
  ['keep: tombstone without bytes + invalidate newer', 'T5:', keep(6n), 'applied', 'T6:'],
  ['keep: absent + invalidate newer', 'A5:', keep(6n), 'applied', 'T6:'],
  ['keep: missing + invalidate', null, keep(6n), 'applied', 'T6:'],
  ['keep: lease carrying bytes + invalidate newer', 'L5:tok:1000:4:old', keep(6n), 'applied', 'T6:1000:4:old'],
  ['keep: lease without bytes + invalidate newer', 'L5:tok', keep(6n), 'applied', 'T6:'],
  ['plain invalidate over an entry keeps nothing', 'E5:old', inv(6n), 'applied', 'T6:'],
];

const readerRows: Row[] = [
  // acquire: a lease over a missing key (floor 0) or a tombstone (floor v, bytes carried)
  ['missing + acquire', null, acquire(), 'applied', 'L0:tok'],
  ['tombstone + acquire', 'T5:', acquire(), 'applied', 'L5:tok'],
  ['kept tombstone + acquire carries the bytes', 'T5:1000:4:o:ld', acquire(), 'applied', 'L5:tok:1000:4:o:ld'],
  ['entry + acquire (a hit)', 'E5:old', acquire(), 'stale', 'E5:old'],
  ['absent + acquire (a hit)', 'A5:', acquire(), 'stale', 'A5:'],
  ["another reader's lease + acquire (wait)", 'L5:other', acquire(), 'stale', 'L5:other'],
  ['foreign text + acquire', 'hello', acquire(), 'applied', 'L0:tok'],
  // fill under the reader's own lease, version >= floor
  ['own lease floor 0 + fill', 'L0:tok', fill(5n), 'applied', 'E5:new'],
  ['own lease floor 0 + fill absent row without version', 'L0:tok', fillAbsent(0n), 'applied', 'A0:'],
  ['own lease floor 5 + fill same version', 'L5:tok', fill(5n), 'applied', 'E5:new'],
  ['own lease floor 5 + fill newer', 'L5:tok', fill(6n), 'applied', 'E6:new'],
  ['own lease floor 5 + fill absent at same version', 'L5:tok', fillAbsent(5n), 'applied', 'A5:'],
  ['own lease carrying bytes + fill drops them', 'L5:tok:1000:4:old', fill(5n), 'applied', 'E5:new'],
  ['own lease floor 5 + fill older (lagging replica) releases the lease', 'L5:tok', fill(4n), 'stale', 'T5:'],
  ['own lease carrying bytes + fill older keeps them in the tombstone', 'L5:tok:1000:4:old', fill(4n), 'stale', 'T5:1000:4:old'],
  ['own lease floor 0 + fill of a version-less key', 'L0:tok', fill(0n), 'applied', 'E0:new'],
  // fills that are refused: the lease is not there any more
  ["another reader's lease + fill", 'L0:other', fill(5n), 'stale', 'L0:other'],
  ['lease with a longer token + fill', 'L0:tok2', fill(5n), 'stale', 'L0:tok2'],
  ['lease with a token prefix + fill', 'L0:to', fill(5n), 'stale', 'L0:to'],
  ['missing (lease expired or evicted) + fill', null, fill(5n), 'stale', null],
  ['missing + fill without lease', null, fillNoLease(5n), 'stale', null],
  ['tombstone (sink wrote after the lease) + fill same version', 'T5:', fill(5n), 'stale', 'T5:'],
  ['tombstone + fill newer', 'T5:', fill(6n), 'stale', 'T5:'],
  ['tombstone + fill older (the stale-fill race)', 'T5:', fill(4n), 'stale', 'T5:'],
  ['foreign text + fill', 'hello', fill(5n), 'stale', 'hello'],
  // fills over an entry/absent: only a strictly newer version
  ['entry + fill older', 'E5:old', fill(4n), 'stale', 'E5:old'],
  ['entry + fill same', 'E5:old', fill(5n), 'stale', 'E5:old'],
  ['entry + fill newer (sink replaced the lease, the read is newer)', 'E5:old', fill(6n), 'applied', 'E6:new'],
  ['entry + fill newer without lease (minVersion read)', 'E5:old', fillNoLease(6n), 'applied', 'E6:new'],
  ['absent + fill same', 'A5:', fill(5n), 'stale', 'A5:'],
  ['absent + fill newer', 'A5:', fill(6n), 'applied', 'E6:new'],
  ['absent + fill absent row without version', 'A5:', fillAbsent(0n), 'stale', 'A5:'],
  ['lease-filled entry + second fill of a version-less key', 'E0:x', fill(0n), 'stale', 'E0:x'],
  // release: back to the floor's tombstone (kept bytes too), deleted at floor 0; others untouched
  ['own lease floor 0 + release', 'L0:tok', release(), 'applied', null],
  ['own lease floor 5 + release', 'L5:tok', release(), 'applied', 'T5:'],
  ['own lease carrying bytes + release', 'L5:tok:1000:4:old', release(), 'applied', 'T5:1000:4:old'],
  ["another reader's lease + release", 'L5:other', release(), 'stale', 'L5:other'],
  ['entry + release', 'E6:new', release(), 'stale', 'E6:new'],
  ['missing + release', null, release(), 'stale', null],
  ['tombstone + release', 'T6:', release(), 'stale', 'T6:'],
];

const layoutRows: Row[] = [
  // versions compared as numbers up to 2^63-1, not as text or doubles
  ['2^63-2 + upsert 2^63-1', `E${MAX - 1n}:old`, ups(MAX), 'applied', `E${MAX}:new`],
  ['2^63-1 + upsert 2^63-2', `E${MAX}:old`, ups(MAX - 1n), 'stale', `E${MAX}:old`],
  ['2^63-1 + invalidate 2^63-1', `E${MAX}:old`, inv(MAX), 'stale', `E${MAX}:old`],
  ['2^53 + upsert 2^53+1 (equal as doubles)', `E${2n ** 53n}:old`, ups(2n ** 53n + 1n), 'applied', `E${2n ** 53n + 1n}:new`],
  ['9 digits + upsert 10 digits', 'E999999999:old', ups(1_000_000_000n), 'applied', 'E1000000000:new'],
  ['10 digits + invalidate 9 digits', 'E1000000000:old', inv(999_999_999n), 'stale', 'E1000000000:old'],
  ['lease floor 19 + fill 9', 'L19:tok', fill(9n), 'stale', 'T19:'],
  ['lease floor 9 + fill 19', 'L9:tok', fill(19n), 'applied', 'E19:new'],
  ['lease floor 2^63-1 + fill 2^63-1', `L${MAX}:tok`, fill(MAX), 'applied', `E${MAX}:new`],
  ['entry 21 + upsert 12', 'E21:old', ups(12n), 'stale', 'E21:old'],
  ['entry 21 + fill 12', 'E21:old', fill(12n), 'stale', 'E21:old'],
  // the data may hold any bytes, colons and digits included
  ['binary data with colons', 'E5:a:b', ups(6n, Buffer.from('E9:\u0000\u00ff:', 'latin1')), 'applied', 'E6:E9:\u0000\u00ff:'],
  ['entry whose data looks like a header', 'E5:E9:x', ups(6n), 'applied', 'E6:new'],
  // foreign strings (not written by the guard) count as no state
  ['foreign text + upsert', 'hello', ups(1n), 'applied', 'E1:new'],
  ['unknown state letter + invalidate', 'X9:abc', inv(1n), 'applied', 'T1:'],
  ['non-digit version + upsert', 'E1a:zz', ups(1n), 'applied', 'E1:new'],
  ['leading-zero version + upsert', 'E09:zz', ups(1n), 'applied', 'E1:new'],
  ['leading-zero version + acquire', 'T07:', acquire(), 'applied', 'L0:tok'],
  ['empty version + upsert', 'E:zz', ups(1n), 'applied', 'E1:new'],
  ['header longer than 21 bytes + upsert', 'E12345678901234567890:zz', ups(1n), 'applied', 'E1:new'],
];

/** Every case of the table. */
const flushRows: Row[] = [
  // flush (operator): every state that could serve becomes a tombstone at its own version (a
  // lease at its floor), so the version floor survives; never a delete
  ['entry + flush', 'E5:old', flush, 'applied', 'T5:'],
  ['absent + flush', 'A5:', flush, 'applied', 'T5:'],
  ['lease floor 0 + flush', 'L0:tok', flush, 'applied', 'T0:'],
  ['lease carrying bytes + flush drops them', 'L5:tok:1000:4:old', flush, 'applied', 'T5:'],
  ['tombstone + flush', 'T5:', flush, 'stale', 'T5:'],
  ['kept tombstone + flush', 'T5:1000:4:old', flush, 'stale', 'T5:1000:4:old'],
  ['missing + flush', null, flush, 'stale', null],
  ['foreign text + flush', 'hello', flush, 'stale', 'hello'],
  ['entry at 2^63-1 + flush', `E${MAX}:old`, flush, 'applied', `T${MAX}:`],
];

export const GUARD_CASES: readonly GuardCase[] = [...sinkRows, ...readerRows, ...layoutRows, ...flushRows].map(
  ([name, before, op, outcome, after]) => ({ name, before, op, outcome, after }),
);

/** A step of an interleaving: a guard op, or Redis dropping the key (eviction, restart, FLUSH). */
export type InterleavingStep = GuardOp | { readonly kind: 'evict' };

/** One reader (acquire, then fill) interleaved with one sink write and maybe an eviction. */
export interface GuardInterleaving {
  readonly name: string;
  readonly before: string | null;
  readonly steps: readonly InterleavingStep[];
}

/**
 * Every interleaving of a reader's acquire and fill with one sink write (newer invalidate,
 * upsert, delete, a revoke, or an old replayed invalidate) and an optional eviction, from a
 * missing key, a tombstone at 5 or an entry at 5. The reader reads the database right after its
 * acquire: if a newer write was applied before that, it read version 6; otherwise 5 or 6.
 * Run against both the TypeScript rule and the Lua scripts (they must end in the same state) and
 * checked for safety: the key never ends with an entry/absent below a version the sink applied.
 */
export const GUARD_INTERLEAVINGS: readonly GuardInterleaving[] = (() => {
  const sinkOps: [string, GuardOp, boolean][] = [
    ['invalidate 6', inv(6n), true], ['upsert 6', ups(6n), true], ['delete 6', del(6n), true],
    ['revoke', revoke, true], ['replayed invalidate 4', inv(4n), false],
  ];
  const out: GuardInterleaving[] = [];
  for (const before of [null, 'T5:', 'E5:old']) {
    for (const [sinkName, sinkOp, isNewer] of sinkOps) {
      for (const evict of [false, true]) {
        // Orders of [acquire, fill, sink, evict?] keeping acquire before fill.
        const items = evict ? ['acquire', 'fill', 'sink', 'evict'] : ['acquire', 'fill', 'sink'];
        for (const order of permutations(items)) {
          if (order.indexOf('acquire') > order.indexOf('fill')) continue;
          const newerBeforeRead = isNewer && order.indexOf('sink') < order.indexOf('acquire');
          for (const readVersion of newerBeforeRead ? [6n] : [5n, 6n]) {
            const steps = order.map((item): InterleavingStep =>
              item === 'acquire' ? acquire() : item === 'fill' ? fill(readVersion) : item === 'sink' ? sinkOp : { kind: 'evict' });
            out.push({ name: `${before ?? 'missing'}: ${order.join(', ').replace('sink', sinkName).replace('fill', `fill ${readVersion}`)}`, before, steps });
          }
        }
      }
    }
  }
  return out;
})();

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}
