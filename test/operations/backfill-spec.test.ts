/** The pure parts of backfill: spec checks, keys, SQL, versions, the default serialiser, the pacer. */
import { describe, expect, it } from 'vitest';
import {
  jsonSerializer, keyScanSql, parseVersion, renderKey, rowsSql, specProblems, templateColumns, type BackfillSpec,
} from '../../src/operations/backfill-spec.js';
import { pace } from '../../src/operations/pacer.js';
import { namespacePattern } from '../../src/operations/redis-keys.js';

const spec: BackfillSpec = { namespace: 'product', table: 'shop.products', pk: 'id', key: 'product:{sku}:{region}', version: { column: 'version' }, mode: 'fill' };

describe('backfill spec', () => {
  it('renders keys from the template and refuses null key columns', () => {
    expect(templateColumns(spec.key)).toEqual(['sku', 'region']);
    expect(renderKey(spec.key, { sku: 'A-1', region: 7 })).toBe('product:A-1:7');
    expect(() => renderKey(spec.key, { sku: null, region: 1 })).toThrow(/key column sku is null/);
  });

  it('scans in primary-key order after the cursor, with the where filter, reading only what it needs', () => {
    expect(keyScanSql({ ...spec, where: "status = 'on'" }, 42, 100)).toEqual({
      sql: "SELECT `id`, `sku`, `region`, `version` FROM `shop`.`products` WHERE `id` > ? AND (status = 'on') ORDER BY `id` LIMIT 100",
      params: [42],
    });
    expect(keyScanSql({ ...spec, version: { table: 'outbox_version' } }, undefined, 5).sql)
      .toBe('SELECT `id`, `sku`, `region` FROM `shop`.`products` ORDER BY `id` LIMIT 5');
    expect(rowsSql({ ...spec, where: 'a = 1' }, 1, 9)).toEqual({ sql: 'SELECT * FROM `shop`.`products` WHERE `id` >= ? AND `id` <= ? AND (a = 1)', params: [1, 9] });
  });

  it('lists every problem of a spec', () => {
    const problems = specProblems({ ...spec, key: 'item:{a', pk: 'x y', columns: ['ok', 'bad col'], where: '1; DROP TABLE t' });
    expect(problems.map((p) => p.setting)).toEqual(['--key', '--key', '--key', '--pk', '--columns', '--where']);
    expect(specProblems(spec)).toEqual([]);
  });

  it('reads versions exactly up to 2^63-1; no version row is 0', () => {
    expect(parseVersion('9223372036854775807', 'x')).toBe(2n ** 63n - 1n);
    expect(parseVersion(7, 'x')).toBe(7n);
    expect(parseVersion(null, 'x')).toBe(0n);
    for (const bad of ['9223372036854775808', '-1', '1.5', 'x']) expect(() => parseVersion(bad, 'row 1'), bad).toThrow(/row 1/);
  });

  it('serialises the value columns as JSON, bigints as text', () => {
    expect(jsonSerializer(['id', 'n'])({ id: 1, n: 12n, other: 'x' })).toBe('{"id":1,"n":"12"}');
    expect(jsonSerializer()({ a: null })).toBe('{"a":null}');
  });

  it('scans exactly one namespace, glob characters escaped', () => {
    expect(namespacePattern('app*:', 'product')).toBe('app\\*:product:*');
  });
});

describe('pacer', () => {
  it('lets a batch go once the previous ones are paid for at the rate, without bursts', () => {
    let state = { paidUntilMs: 0 };
    const waits: number[] = [];
    for (const now of [0, 0, 100, 5000]) {
      const step = pace(state, 50, now, 100);
      waits.push(step.waitMs);
      state = step.next;
    }
    // 50 units at 100/s cost 500 ms each; idle time (until 5000) does not build up credit.
    expect(waits).toEqual([0, 500, 900, 0]);
    expect(state.paidUntilMs).toBe(5500);
  });
});
