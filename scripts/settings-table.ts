/**
 * Prints the markdown reference table of a settings table (`variable | flag | meaning`), from the
 * settings definitions themselves, for docs/*.md: `npx tsx scripts/settings-table.ts
 * src/lab/lab-config.ts LAB_SETTINGS`. test/docs/settings-docs.test.ts checks the pages against
 * the same definitions, so a table pasted from here and then edited cannot drift unnoticed.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Setting } from '../src/config/settings.js';

const [file, ...names] = process.argv.slice(2);
if (!file || names.length === 0) {
  process.stderr.write('usage: tsx scripts/settings-table.ts <module.ts> <TABLE_NAME>...\n');
  process.exit(2);
}
const mod = (await import(pathToFileURL(resolve(file)).href)) as Record<string, Record<string, Setting<unknown>> | undefined>;
const seen = new Set<string>();
const lines = ['| variable | flag | meaning |', '|---|---|---|'];
for (const name of names) {
  const table = mod[name];
  if (!table) throw new Error(`${file} exports no ${name}`);
  for (const s of Object.values(table)) {
    if (seen.has(s.env)) continue;
    seen.add(s.env);
    lines.push(`| \`${s.env}\` | \`--${s.flag}\` | ${s.doc.replaceAll('|', '\\|')} |`);
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
