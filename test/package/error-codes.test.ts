/**
 * The error codes the package root lists (src/error-codes.ts) are the ones the outbox and cache
 * sources raise: none missing, none stale.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CACHE_ERROR_CODES, CONFIG_ERROR_CODE, OUTBOX_ERROR_CODES } from '../../src/error-codes.js';
import { ConfigError } from '../../src/errors.js';
import { ROOT } from '../deploy/compose-model.js';

/** Every `code: 'X'` literal in the TypeScript files of `src/<folder>`. */
function raisedCodes(folder: string): string[] {
  const dir = join(ROOT, 'src', folder);
  const codes = readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/\bcode: '([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!));
  return [...new Set(codes)].sort();
}

describe('error codes', () => {
  it('lists every code the outbox writer raises, and only those', () => {
    expect(raisedCodes('outbox')).toEqual([...OUTBOX_ERROR_CODES].sort());
  });

  it('lists every code the cache raises, and only those', () => {
    expect(raisedCodes('cache')).toEqual([...CACHE_ERROR_CODES].sort());
  });

  it('names the code of ConfigError', () => {
    expect(new ConfigError([{ setting: 'X', message: 'bad' }]).code).toBe(CONFIG_ERROR_CODE);
  });
});
