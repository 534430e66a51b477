/**
 * Where the apply scripts announce what they changed, and how (DESIGN.md §4a). Pure.
 *
 * Channel: `<keyPrefix>outbox-cache:l1` on a single node (PUBLISH). On Redis Cluster a script may
 * only publish to a sharded channel of its own keys' slot (SPUBLISH), so there is one channel per
 * slot: `<keyPrefix>outbox-cache:l1:{<tag>}`, where `<tag>` is a short string that hashes to that
 * slot. When the key prefix itself holds a hash tag, every key and the channel share its slot.
 *
 * Message: one per script call, the changed keys packed one after another as
 * `<version>;<key length in bytes>;<key>`, where version is canonical decimal, or `R` for a key
 * whose leases were revoked (drop whatever the version). Keys are the full Redis keys (client
 * key prefix included), exactly as the script saw them.
 */
import { keySlot } from '../key-slot.js';

/** Suffix of every invalidation channel, after the client's key prefix. */
export const L1_CHANNEL_SUFFIX = 'outbox-cache:l1';

/** One announced change: the key (without the client's prefix) and its new version (null: revoked). */
export interface Invalidation {
  readonly key: string;
  readonly version: bigint | null;
}

let slotTags: string[] | undefined;

/**
 * A short tag per hash slot, `tag` such that keySlot(`{tag}`) is the slot: found once by trying
 * base-36 counters until every slot has one (about 160,000 CRC16s of 1–4 bytes, a few ms).
 */
export function slotTag(slot: number): string {
  if (slotTags === undefined) {
    const tags = new Array<string>(16384);
    let found = 0;
    for (let i = 0; found < 16384; i++) {
      const tag = i.toString(36);
      const s = keySlot(tag);
      if (tags[s] === undefined) {
        tags[s] = tag;
        found += 1;
      }
    }
    slotTags = tags;
  }
  const tag = slotTags[slot];
  if (tag === undefined) throw new RangeError(`hash slot ${slot} is outside 0 .. 16383`);
  return tag;
}

/** True when `keyPrefix` pins every key to one slot (it contains a non-empty `{hash tag}`). */
export function prefixHasHashTag(keyPrefix: string): boolean {
  const open = keyPrefix.indexOf('{');
  return open !== -1 && keyPrefix.indexOf('}', open + 2) !== -1;
}

/**
 * The channel announcing changes of `fullKey` (prefix included). `cluster`: per-slot sharded
 * channel; otherwise the one channel of the prefix.
 */
export function invalidationChannel(keyPrefix: string, fullKey: string, cluster: boolean): string {
  if (!cluster || prefixHasHashTag(keyPrefix)) return `${keyPrefix}${L1_CHANNEL_SUFFIX}`;
  return `${keyPrefix}${L1_CHANNEL_SUFFIX}:{${slotTag(keySlot(fullKey))}}`;
}

/**
 * Decodes one message into its invalidations, stripping `keyPrefix` from the keys (keys outside
 * the prefix are skipped: another client's namespace on the same channel). A malformed message
 * yields what was read before the fault and `malformed: true`; the caller then clears L1, since
 * it cannot tell which keys it missed.
 */
export function decodeInvalidations(message: Buffer, keyPrefix: string): { invalidations: Invalidation[]; malformed: boolean } {
  const invalidations: Invalidation[] = [];
  const prefix = Buffer.from(keyPrefix, 'utf8');
  let pos = 0;
  while (pos < message.length) {
    const semi1 = message.indexOf(0x3b, pos);
    const semi2 = semi1 === -1 ? -1 : message.indexOf(0x3b, semi1 + 1);
    if (semi2 === -1) return { invalidations, malformed: true };
    const versionText = message.toString('latin1', pos, semi1);
    const lengthText = message.toString('latin1', semi1 + 1, semi2);
    if (!/^(R|0|[1-9]\d{0,18})$/.test(versionText) || !/^(0|[1-9]\d{0,9})$/.test(lengthText)) return { invalidations, malformed: true };
    const end = semi2 + 1 + Number(lengthText);
    if (end > message.length) return { invalidations, malformed: true };
    const key = message.subarray(semi2 + 1, end);
    if (key.length >= prefix.length && key.subarray(0, prefix.length).equals(prefix)) {
      invalidations.push({ key: key.toString('utf8', prefix.length), version: versionText === 'R' ? null : BigInt(versionText) });
    }
    pos = end;
  }
  return { invalidations, malformed: false };
}

/** Encodes invalidations as the scripts do (for tests and tools). */
export function encodeInvalidations(items: readonly { readonly fullKey: string; readonly version: bigint | null }[]): Buffer {
  return Buffer.concat(items.map(({ fullKey, version }) => {
    const key = Buffer.from(fullKey, 'utf8');
    return Buffer.concat([Buffer.from(`${version === null ? 'R' : version.toString()};${key.length};`, 'latin1'), key]);
  }));
}

/**
 * The two script arguments that make a call on `redis` announce its changes: the channel of the
 * call's keys (all in one slot on Cluster; `key` is any of them, without the client's prefix) and
 * the publish mode, `S` (SPUBLISH) on Cluster, else `P`.
 */
export function announceArgs(redis: { readonly isCluster: boolean; readonly options: unknown }, key: string): [string, 'S' | 'P'] {
  const keyPrefix = String((redis.options as { keyPrefix?: string }).keyPrefix ?? '');
  return [invalidationChannel(keyPrefix, keyPrefix + key, redis.isCluster), redis.isCluster ? 'S' : 'P'];
}
