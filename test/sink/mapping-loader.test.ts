import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadMappingModule } from '../../src/sink/mapping-loader.js';

const dir = mkdtempSync(join(tmpdir(), 'outbox-cache-mapping-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function moduleFile(name: string, source: string): string {
  const file = join(dir, name);
  writeFileSync(file, source);
  return file;
}

describe('loadMappingModule', () => {
  it('loads a default export of aggregate type → function, relative to the given directory', async () => {
    moduleFile('good.mjs', 'export default { user: (e, d, ctx) => ctx.defaultActions() };');
    const mappings = await loadMappingModule('./good.mjs', 'SINK_MAPPING_MODULE', dir);
    expect(Object.keys(mappings)).toEqual(['user']);
    expect(typeof mappings.user).toBe('function');
  });

  it('refuses a missing module, a module without a default object, and bad entries, naming the setting', async () => {
    const bad = [
      join(dir, 'missing.mjs'),
      moduleFile('no-default.mjs', 'export const user = () => [];'),
      moduleFile('bad-entries.mjs', 'export default { "bad-type": () => [], order: 42 };'),
    ];
    for (const file of bad) {
      const err = await loadMappingModule(file).catch((e: unknown) => e);
      expect(err, file).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems[0]?.setting).toBe('SINK_MAPPING_MODULE');
    }
    const entries = (await loadMappingModule(bad[2]!).catch((e: unknown) => e)) as ConfigError;
    expect(entries.problems).toHaveLength(2);
  });
});
