/**
 * A clone with nothing beside it passes its own tests (DESIGN.md §6): no file that tests, benches
 * or scripts run names the repository's sibling folder or an absolute machine path. Data the
 * tests need lives under test/fixtures/.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../deploy/compose-model.js';

/** Built from pieces so this file does not match itself. */
const FORBIDDEN: readonly { readonly what: string; readonly pattern: RegExp }[] = [
  { what: 'the sibling shared folder', pattern: new RegExp(['\\.\\.', 'shared'].join('/')) },
  { what: 'the shared fixtures', pattern: new RegExp(['shared', 'fixtures'].join('/')) },
  { what: 'an absolute machine path', pattern: new RegExp(`(^|[^\\w.])/(${['work', 'root', 'home'].join('|')})/`) },
];

const SCANNED = ['test', 'bench', 'scripts', 'src', '.ci', 'vitest.config.ts', 'package.json'];
const TEXT = /\.(ts|mts|js|mjs|cjs|json|sh|sql|lua|ya?ml|avsc)$|^run$/;

function* files(path: string): Generator<string> {
  let entries;
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch {
    yield path;
    return;
  }
  for (const entry of entries) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const child = join(path, entry.name);
    if (entry.isDirectory()) yield* files(child);
    else if (TEXT.test(entry.name)) yield child;
  }
}

/** Every `file:line: what` under `root` (relative to it) that names a forbidden location. */
function forbiddenReferences(root: string, scanned: readonly string[]): string[] {
  const found: string[] = [];
  for (const top of scanned) {
    for (const file of files(join(root, top))) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      text.split('\n').forEach((line, i) => {
        for (const { what, pattern } of FORBIDDEN) {
          if (pattern.test(line)) found.push(`${relative(root, file)}:${i + 1}: ${what}`);
        }
      });
    }
  }
  return found;
}

describe('the repository is self-contained', () => {
  const planted = mkdtempSync(join(tmpdir(), 'outbox-cache-self-contained-'));
  afterAll(() => rmSync(planted, { recursive: true, force: true }));

  it('no test, bench, script or source file reads the shared folder or an absolute path', () => {
    expect(forbiddenReferences(ROOT, SCANNED)).toEqual([]);
  });

  it('the captured Debezium fixtures are in the repository', () => {
    const dir = join(ROOT, 'test/fixtures/debezium-2.7.4-outbox');
    expect(readdirSync(dir).sort()).toEqual(['connector-mysql.json', 'records.json']);
    expect(JSON.parse(readFileSync(join(dir, 'records.json'), 'utf8'))).toHaveProperty('records');
  });

  it('finds each kind of reference when one is planted', () => {
    const lines = [
      `readFileSync(new URL('../../${'..'}/shared/x.json', import.meta.url))`,
      `const f = '${'shared'}/fixtures/records.json';`,
      `readFileSync('/${'work'}/x/records.json')`,
      `cd /${'root'}/project`,
    ];
    writeFileSync(join(planted, 'planted.test.ts'), lines.join('\n'));
    writeFileSync(join(planted, 'clean.ts'), "import { x } from '../src/index.js'; // a/work/b is fine\n");
    expect(forbiddenReferences(planted, ['.'])).toEqual([
      'planted.test.ts:1: the sibling shared folder',
      'planted.test.ts:2: the shared fixtures',
      'planted.test.ts:3: an absolute machine path',
      'planted.test.ts:4: an absolute machine path',
    ]);
  });
});
