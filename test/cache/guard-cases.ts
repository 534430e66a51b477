/**
 * The version guard's rules (DESIGN.md §4) as one table, run against the pure TypeScript rule
 * (guard-rule.test.ts) and the Lua scripts on a real Redis (guard-lua.test.ts), so the two cannot
 * drift. States are written in the stored layout: `E5:old` entry, `A5:` known absent, `T5:`
 * tombstone, `L0:tok` lease, null for a missing key; anything else is foreign data.
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
const ups = (version: bigint, v: Buffer = value): GuardOp => ({ kind: 'upsert', version, value: v });
const del = (version: bigint): GuardOp => ({ kind: 'delete', version });
const fill = (version: bigint): GuardOp => ({ kind: 'fill', version, value });
const fillAbsent = (version: bigint): GuardOp => ({ kind: 'fill', version, value: null });
const revoke: GuardOp = { kind: 'revoke-leases' };
const fillLease = (token: string, v: Buffer | null = value): GuardOp => ({ kind: 'fill-lease', token, value: v });

type Row = [name: string, before: string | null, op: GuardOp, outcome: 'applied' | 'stale', after: string | null];

const rows: Row[] = [
  // missing key: everything versioned applies; a lease fill needs a lease
  ['missing + invalidate', null, inv(5n), 'applied', 'T5:'],
  ['missing + upsert', null, ups(5n), 'applied', 'E5:new'],
  ['missing + delete', null, del(5n), 'applied', 'A5:'],
  ['missing + fill', null, fill(5n), 'applied', 'E5:new'],
  ['missing + fill absent row (no version)', null, fillAbsent(0n), 'applied', 'A0:'],
  ['missing + revoke', null, revoke, 'applied', null],
  ['missing + lease fill without lease', null, fillLease('tok'), 'stale', null],
  // entry at 5: the sink needs > 5, a fill needs > 5 (never extends or replaces an equal entry)
  ['entry + invalidate older', 'E5:old', inv(4n), 'stale', 'E5:old'],
  ['entry + invalidate same (duplicate)', 'E5:old', inv(5n), 'stale', 'E5:old'],
  ['entry + invalidate newer', 'E5:old', inv(6n), 'applied', 'T6:'],
  ['entry + upsert older', 'E5:old', ups(4n), 'stale', 'E5:old'],
  ['entry + upsert same (duplicate)', 'E5:old', ups(5n), 'stale', 'E5:old'],
  ['entry + upsert newer', 'E5:old', ups(6n), 'applied', 'E6:new'],
  ['entry + delete same', 'E5:old', del(5n), 'stale', 'E5:old'],
  ['entry + delete newer', 'E5:old', del(6n), 'applied', 'A6:'],
  ['entry + fill older', 'E5:old', fill(4n), 'stale', 'E5:old'],
  ['entry + fill same', 'E5:old', fill(5n), 'stale', 'E5:old'],
  ['entry + fill newer', 'E5:old', fill(6n), 'applied', 'E6:new'],
  ['entry + revoke', 'E5:old', revoke, 'applied', null],
  // known absent at 5: an entry like any other
  ['absent + upsert same', 'A5:', ups(5n), 'stale', 'A5:'],
  ['absent + upsert newer', 'A5:', ups(6n), 'applied', 'E6:new'],
  ['absent + invalidate newer', 'A5:', inv(6n), 'applied', 'T6:'],
  ['absent + delete same', 'A5:', del(5n), 'stale', 'A5:'],
  ['absent + fill same', 'A5:', fill(5n), 'stale', 'A5:'],
  ['absent + fill newer', 'A5:', fill(6n), 'applied', 'E6:new'],
  ['absent + fill absent row without version', 'A5:', fillAbsent(0n), 'stale', 'A5:'],
  // tombstone at 5: the sink needs > 5; a fill at 5 is fresh (the asymmetry), below 5 is stale
  ['tombstone + invalidate older', 'T5:', inv(4n), 'stale', 'T5:'],
  ['tombstone + invalidate same (duplicate)', 'T5:', inv(5n), 'stale', 'T5:'],
  ['tombstone + invalidate newer', 'T5:', inv(6n), 'applied', 'T6:'],
  ['tombstone + upsert same', 'T5:', ups(5n), 'stale', 'T5:'],
  ['tombstone + upsert newer', 'T5:', ups(6n), 'applied', 'E6:new'],
  ['tombstone + delete same', 'T5:', del(5n), 'stale', 'T5:'],
  ['tombstone + delete newer', 'T5:', del(6n), 'applied', 'A6:'],
  ['tombstone + fill older (the stale-fill race)', 'T5:', fill(4n), 'stale', 'T5:'],
  ['tombstone + fill same version', 'T5:', fill(5n), 'applied', 'E5:new'],
  ['tombstone + fill newer', 'T5:', fill(6n), 'applied', 'E6:new'],
  ['tombstone + fill absent row without version', 'T5:', fillAbsent(0n), 'stale', 'T5:'],
  ['tombstone + fill absent row at same version', 'T5:', fillAbsent(5n), 'applied', 'A5:'],
  ['tombstone + revoke', 'T5:', revoke, 'applied', null],
  // leases (version 0): the holder's token fills once; others, and versioned writes, override
  ['lease + fill with its token', 'L0:tok', fillLease('tok'), 'applied', 'E0:new'],
  ['lease + fill absent with its token', 'L0:tok', fillLease('tok', null), 'applied', 'A0:'],
  ['lease + fill with another token', 'L0:tok', fillLease('other'), 'stale', 'L0:tok'],
  ['lease + fill with a token prefix', 'L0:tok', fillLease('to'), 'stale', 'L0:tok'],
  ['lease + revoke', 'L0:tok', revoke, 'applied', null],
  ['lease + invalidate', 'L0:tok', inv(1n), 'applied', 'T1:'],
  ['lease + versioned fill', 'L0:tok', fill(1n), 'applied', 'E1:new'],
  ['lease-filled entry + second fill with the consumed token', 'E0:x', fillLease('tok'), 'stale', 'E0:x'],
  ['tombstone + lease fill', 'T5:', fillLease('tok'), 'stale', 'T5:'],
  // versions compared as numbers up to 2^63-1, not as text or doubles
  ['2^63-2 + upsert 2^63-1', `E${MAX - 1n}:old`, ups(MAX), 'applied', `E${MAX}:new`],
  ['2^63-1 + upsert 2^63-2', `E${MAX}:old`, ups(MAX - 1n), 'stale', `E${MAX}:old`],
  ['2^63-1 + invalidate 2^63-1', `E${MAX}:old`, inv(MAX), 'stale', `E${MAX}:old`],
  ['2^53 + upsert 2^53+1 (equal as doubles)', `E${2n ** 53n}:old`, ups(2n ** 53n + 1n), 'applied', `E${2n ** 53n + 1n}:new`],
  ['9 digits + upsert 10 digits', 'E999999999:old', ups(1_000_000_000n), 'applied', 'E1000000000:new'],
  ['10 digits + invalidate 9 digits', 'E1000000000:old', inv(999_999_999n), 'stale', 'E1000000000:old'],
  ['tombstone 19 + fill 9', 'T19:', fill(9n), 'stale', 'T19:'],
  ['tombstone 9 + fill 19', 'T9:', fill(19n), 'applied', 'E19:new'],
  ['entry 21 + upsert 12', 'E21:old', ups(12n), 'stale', 'E21:old'],
  // the data may hold any bytes, colons and digits included
  ['binary data with colons', 'E5:a:b', ups(6n, Buffer.from('E9:\u0000\u00ff:', 'latin1')), 'applied', 'E6:E9:\u0000\u00ff:'],
  ['entry whose data looks like a header', 'E5:E9:x', ups(6n), 'applied', 'E6:new'],
  // foreign strings (not written by the guard) count as no state
  ['foreign text + upsert', 'hello', ups(1n), 'applied', 'E1:new'],
  ['unknown state letter + invalidate', 'X9:abc', inv(1n), 'applied', 'T1:'],
  ['non-digit version + upsert', 'E1a:zz', ups(1n), 'applied', 'E1:new'],
  ['leading-zero version + upsert', 'E09:zz', ups(1n), 'applied', 'E1:new'],
  ['empty version + fill', 'E:zz', fill(1n), 'applied', 'E1:new'],
  ['header longer than 21 bytes + upsert', 'E12345678901234567890:zz', ups(1n), 'applied', 'E1:new'],
];

/** Every case of the table. */
export const GUARD_CASES: readonly GuardCase[] = rows.map(([name, before, op, outcome, after]) => ({
  name, before, op, outcome, after,
}));
