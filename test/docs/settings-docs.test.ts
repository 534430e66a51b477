/**
 * Every setting of every settings table in src/ (the `*_SETTINGS` tables built with `setting(…)`,
 * found by scanning the sources, so a new table is covered without editing this file) appears by
 * its environment variable in a table of some docs/*.md page, and where that row names a flag, it
 * is the setting's flag: the reference cannot drift from the code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Setting } from '../../src/config/settings.js';
import { ROOT } from '../deploy/compose-model.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

/** `[file, exported name]` of every settings table in src/. */
function settingsTables(): [string, string][] {
  return sourceFiles(join(ROOT, 'src')).flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    if (!text.includes('setting(')) return [];
    return [...text.matchAll(/^export const ([A-Z][A-Z0-9_]*_SETTINGS)\s*=/gm)].map((m): [string, string] => [file, m[1]!]);
  });
}

interface DocRow {
  readonly page: string;
  readonly cells: string[];
}

/** Rows of the Markdown tables of docs/*.md, cells trimmed, header and rule rows included. */
function docRows(): DocRow[] {
  const dir = join(ROOT, 'docs');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n')
      .filter((line) => line.trimStart().startsWith('|'))
      .map((line) => ({ page: `docs/${f}`, cells: line.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim()) })));
}

/** Problems with how `table`'s settings are documented in `rows`. */
function undocumented(table: Record<string, Setting<unknown>>, rows: readonly DocRow[]): string[] {
  const problems: string[] = [];
  for (const s of Object.values(table)) {
    const named = rows.filter((r) => r.cells[0]?.split(/[,\s]+/).includes(`\`${s.env}\``));
    if (named.length === 0) problems.push(`${s.env} (--${s.flag}) is in no docs/*.md table`);
    // One variable may be read by several commands under different flags (FLUSH_RATE is `flush
    // --rate` and `rebuild --flush-rate`): some row naming it must give this table's flag.
    const flagged = named.map((row) => ({ row, flags: row.cells.flatMap((c) => [...c.matchAll(/`--([a-z0-9-]+)`/g)].map((m) => m[1]!)) }))
      .filter((r) => r.flags.length > 0);
    if (flagged.length > 0 && !flagged.some((r) => r.flags.includes(s.flag))) {
      for (const { row, flags } of flagged) problems.push(`${row.page}: ${s.env} is given flag(s) ${flags.join(', ')}, the code reads --${s.flag}`);
    }
  }
  return problems;
}

const tables = settingsTables();

describe('settings reference in docs/', () => {
  it('finds the settings tables of the sink, the relay, the lab and the demo writer', () => {
    expect(tables.map(([, name]) => name)).toEqual(expect.arrayContaining(['SINK_SETTINGS', 'RUN_SETTINGS', 'LAB_SETTINGS', 'DEMO_WRITER_SETTINGS']));
  });

  it('would report a missing setting and a wrong flag', () => {
    const table = {
      a: { env: 'ALPHA_URL', flag: 'alpha-url', doc: '' },
      b: { env: 'BETA', flag: 'beta', doc: '' },
    } as unknown as Record<string, Setting<unknown>>;
    const rows: DocRow[] = [{ page: 'docs/x.md', cells: ['`ALPHA_URL`', '`--alpha`', 'what'] }];
    expect(undocumented(table, rows)).toEqual([
      'docs/x.md: ALPHA_URL is given flag(s) alpha, the code reads --alpha-url',
      'BETA (--beta) is in no docs/*.md table',
    ]);
  });

  for (const [file, name] of tables) {
    it(`documents every setting of ${name} (${relative(ROOT, file)})`, async () => {
      const mod = (await import(pathToFileURL(file).href)) as Record<string, Record<string, Setting<unknown>>>;
      expect(undocumented(mod[name]!, docRows())).toEqual([]);
    });
  }
});
