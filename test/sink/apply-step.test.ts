import { describe, expect, it } from 'vitest';
import type { ApplyOutcome, CacheAction, CacheWriter } from '../../src/cache/actions.js';
import type { DecodedValue, PayloadDecoder } from '../../src/codec/types.js';
import { DecodeError, SchemaError, ScriptError } from '../../src/errors.js';
import type { OutboxEvent } from '../../src/outbox/event.js';
import { applyEvents } from '../../src/sink/apply-step.js';

/** Payload byte 0 chooses the decoder's answer: 1 ok, 2 poison, 3 registry outage. */
const decoder: PayloadDecoder = {
  async decode(framed, { subject }): Promise<DecodedValue> {
    expect(subject).toMatch(/^outbox\.event\.[a-z]+-value$/);
    if (framed[0] === 2) throw new DecodeError('bad magic byte', { code: 'DECODE_BAD_MAGIC' });
    if (framed[0] === 3) throw new SchemaError('registry unreachable', { code: 'REGISTRY_UNAVAILABLE', retriable: true });
    return { schemaId: 1, writerSchemaName: 'x.Y', value: {} };
  },
};

/** An in-memory stand-in for the guard's writer: same rule (apply only a higher version). */
class RecordingWriter implements CacheWriter {
  readonly versions = new Map<string, bigint>();
  readonly calls: CacheAction[][] = [];
  down = false;
  async applyBatch(actions: readonly CacheAction[]): Promise<ApplyOutcome[]> {
    if (this.down) throw new ScriptError('redis down', { code: 'REDIS_UNAVAILABLE', retriable: true });
    this.calls.push([...actions]);
    return actions.map((a) => {
      if (a.kind === 'revoke-leases') return 'applied';
      if ((this.versions.get(a.key) ?? 0n) >= a.version) return 'stale';
      this.versions.set(a.key, a.version);
      return 'applied';
    });
  }
}

function ev(id: string, version: number, kind = 1, type = 'user'): OutboxEvent {
  return { id: `${id}@${version}`, aggregateType: type, aggregateId: id, type: 'T', version: BigInt(version), occurredAtMs: 0, payload: Buffer.from([kind]) };
}

describe('applyEvents', () => {
  it('coalesces per key into one writer call and counts applied, stale and poisoned events', async () => {
    const writer = new RecordingWriter();
    writer.versions.set('user:c', 9n);
    const events = [ev('a', 1), ev('b', 1), ev('a', 3), ev('x', 1, 2), ev('a', 2), ev('c', 5), ev('b', 2)];
    const report = await applyEvents(events, { decoder, writer });
    expect(writer.calls).toHaveLength(1);
    expect(writer.calls[0]).toEqual([
      { kind: 'invalidate', key: 'user:a', version: 3n },
      { kind: 'invalidate', key: 'user:b', version: 2n },
      { kind: 'invalidate', key: 'user:c', version: 5n },
    ]);
    // Only a@3 and b@2 reached Redis and changed it; a@1, a@2, b@1 were superseded in the batch
    // and c@5 was stale in Redis.
    expect(report).toMatchObject({ applied: 2, stale: 4, actionsSent: 3 });
    expect(report.poisoned.map((p) => [p.index, p.error.code])).toEqual([[3, 'DECODE_BAD_MAGIC']]);
  });

  it('rejects with the retriable error, applying nothing, when the registry or Redis is down', async () => {
    const writer = new RecordingWriter();
    await expect(applyEvents([ev('a', 1), ev('b', 1, 3)], { decoder, writer })).rejects.toMatchObject({ retriable: true, code: 'REGISTRY_UNAVAILABLE' });
    expect(writer.calls).toHaveLength(0);
    writer.down = true;
    await expect(applyEvents([ev('a', 1)], { decoder, writer })).rejects.toMatchObject({ retriable: true, code: 'REDIS_UNAVAILABLE' });
  });

  it('reports a mapping error as poison and still applies the rest', async () => {
    const writer = new RecordingWriter();
    const report = await applyEvents([ev('a', 1), ev('b', 1, 1, 'order')], { decoder, writer, mapping: { namespaces: ['user'] } });
    expect(report.poisoned.map((p) => p.error.code)).toEqual(['MAPPING_KEY_OUTSIDE_NAMESPACE']);
    expect(writer.versions.get('user:a')).toBe(1n);
  });
});

describe('applyEvents when Redis refuses one key', () => {
  it('dead-letters only the events of the refused key and applies the rest', async () => {
    const writer = new RecordingWriter();
    const inner = writer.applyBatch.bind(writer);
    writer.applyBatch = async (actions) => {
      if (actions.some((a) => a.key === 'user:bad')) throw new ScriptError('WRONGTYPE', { code: 'CACHE_KEY_WRONG_TYPE' });
      return inner(actions);
    };
    const report = await applyEvents([ev('a', 1), ev('bad', 1), ev('bad', 2), ev('b', 1)], { decoder, writer });
    expect(report.poisoned.map((p) => [p.index, p.error.code])).toEqual([[1, 'CACHE_KEY_WRONG_TYPE'], [2, 'CACHE_KEY_WRONG_TYPE']]);
    expect(report).toMatchObject({ applied: 2, stale: 0 });
    expect([...writer.versions.keys()].sort()).toEqual(['user:a', 'user:b']);
  });
});

describe('applied and stale counts', () => {
  it('counts a duplicate of the same version in a batch as stale, once', async () => {
    const writer = new RecordingWriter();
    const report = await applyEvents([ev('a', 4), ev('a', 4), ev('a', 4)], { decoder, writer });
    expect(report).toMatchObject({ applied: 1, stale: 2 });
  });
});

describe('applyEvents when Redis refuses for a reason about the server', () => {
  it.each([
    ['MISCONF', new ScriptError('MISCONF', { code: 'REDIS_REFUSED', retriable: true })],
    ['an unknown error', new Error('something nobody planned for')],
    ['an unknown non-retriable project error', new ScriptError('odd', { code: 'REDIS_SOMETHING_NEW' })],
  ])('rejects the whole list on %s, reporting nothing as poison', async (_name, error) => {
    const writer = new RecordingWriter();
    writer.applyBatch = async () => {
      throw error;
    };
    await expect(applyEvents([ev('a', 1), ev('b', 1)], { decoder, writer })).rejects.toBe(error);
  });

  it('rejects when one action alone fails for a server reason during the per-key fallback', async () => {
    const writer = new RecordingWriter();
    const refused = new ScriptError('NOPERM', { code: 'REDIS_REFUSED', retriable: true });
    writer.applyBatch = async (actions) => {
      if (actions.length > 1) throw new ScriptError('WRONGTYPE', { code: 'CACHE_KEY_WRONG_TYPE' });
      if (actions[0]?.key === 'user:a') throw refused;
      return ['applied'];
    };
    await expect(applyEvents([ev('a', 1), ev('b', 1)], { decoder, writer })).rejects.toBe(refused);
  });

  it('rejects when decoding fails with an error that is not about the record', async () => {
    const writer = new RecordingWriter();
    const odd: PayloadDecoder = { decode: async () => { throw new TypeError('bug in a dependency'); } };
    await expect(applyEvents([ev('a', 1)], { decoder: odd, writer })).rejects.toBeInstanceOf(TypeError);
    const auth: PayloadDecoder = { decode: async () => { throw new SchemaError('401', { code: 'SCHEMA_REGISTRY_REJECTED' }); } };
    await expect(applyEvents([ev('a', 1)], { decoder: auth, writer })).rejects.toMatchObject({ code: 'SCHEMA_REGISTRY_REJECTED' });
    expect(writer.calls).toHaveLength(0);
  });
});
