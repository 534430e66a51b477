import { describe, expect, it } from 'vitest';
import { parseAvroSchema } from '../../src/codec/avro-types.js';
import { checkCompatibility, COMPATIBILITY_LEVELS, type CompatibilityLevel } from '../../src/codec/compatibility.js';

type Field = { name: string; type: string; default?: unknown };
const record = (...fields: Field[]) => parseAvroSchema({ type: 'record', name: 'R', namespace: 'n', fields });
const a: Field = { name: 'a', type: 'int' };
const bDefault: Field = { name: 'b', type: 'string', default: '' };
const bRequired: Field = { name: 'b', type: 'string' };

const base = record(a);
const addedWithDefault = record(a, bDefault); // reads base (default) and base reads it (drops b)
const addedRequired = record(a, bRequired); // cannot read base; base can read it
const removedRequired = record(bDefault); // reads base (drops a); base cannot read it (a has no default)

function compatible(level: CompatibilityLevel, candidate = addedWithDefault, previous = [base]): boolean {
  return checkCompatibility(level, candidate, previous).compatible;
}

describe('checkCompatibility against the latest version', () => {
  it.each([
    // level, adding a field with a default, adding one without, removing one without a default
    ['BACKWARD', true, false, true],
    ['FORWARD', true, true, false],
    ['FULL', true, false, false],
    ['NONE', true, true, true],
  ] as const)('%s', (level, withDefault, required, removed) => {
    expect(compatible(level, addedWithDefault)).toBe(withDefault);
    expect(compatible(level, addedRequired)).toBe(required);
    expect(compatible(level, removedRequired)).toBe(removed);
  });

  it('explains a failure', () => {
    const result = checkCompatibility('BACKWARD', addedRequired, [base]);
    expect(result.messages).toHaveLength(1);
    expect(result.messages[0]).toMatch(/^new schema cannot read data written with version 1: .*b/);
    const forward = checkCompatibility('FULL', removedRequired, [base]);
    expect(forward.messages[0]).toMatch(/^version 1 cannot read data written with the new schema/);
  });

  it('accepts anything as the first version, and refuses a different record name', () => {
    for (const level of COMPATIBILITY_LEVELS) expect(compatible(level, addedRequired, [])).toBe(true);
    const renamed = parseAvroSchema({ type: 'record', name: 'Other', namespace: 'n', fields: [a] });
    expect(compatible('BACKWARD', renamed)).toBe(false);
  });
});

describe('transitive levels check every previous version', () => {
  it('BACKWARD_TRANSITIVE sees a break with version 1 that BACKWARD misses', () => {
    // v3 makes b required: it reads v2 (which always has b) but not v1.
    const history = [base, addedWithDefault];
    expect(compatible('BACKWARD', addedRequired, history)).toBe(true);
    expect(compatible('BACKWARD_TRANSITIVE', addedRequired, history)).toBe(false);
    expect(compatible('FULL_TRANSITIVE', addedRequired, history)).toBe(false);
  });

  it('FORWARD_TRANSITIVE sees a break with version 1 that FORWARD misses', () => {
    // v1 requires b, v2 gives it a default, v3 drops it: v2 can read v3, v1 cannot.
    const v1 = record(a, bRequired);
    const v2 = record(a, bDefault);
    const v3 = record(a);
    expect(compatible('FORWARD', v3, [v1, v2])).toBe(true);
    expect(compatible('FORWARD_TRANSITIVE', v3, [v1, v2])).toBe(false);
    expect(compatible('FULL', v3, [v1, v2])).toBe(true);
    expect(compatible('FULL_TRANSITIVE', v3, [v1, v2])).toBe(false);
  });
});
