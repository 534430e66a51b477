/**
 * The backfill spec of `backfill` and `rebuild` from their settings and, optionally, a JSON file
 * of namespaces (flags and variables win over the file), with every problem reported at once; the
 * user's serialiser module; the MySQL pool.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createPool, type Pool } from 'mysql2/promise';
import { z } from 'zod';
import type { SettingsValue } from '../../config/settings.js';
import { cacheTtlProblems } from '../../config/sink.js';
import { ConfigError, errorMessage, type ConfigProblem } from '../../errors.js';
import { specProblems, type BackfillSpec, type RowSerializer } from '../../operations/backfill-spec.js';
import type { BACKFILL_SETTINGS } from '../../operations/settings.js';

type BackfillSettings = SettingsValue<typeof BACKFILL_SETTINGS>;

const FILE_ENTRY = z.object({
  table: z.string().optional(),
  pk: z.string().optional(),
  key: z.string().optional(),
  versionColumn: z.string().optional(),
  versionTable: z.string().optional(),
  columns: z.array(z.string()).optional(),
  serializer: z.string().optional(),
  where: z.string().optional(),
  mode: z.enum(['fill', 'invalidate']).optional(),
  batchSize: z.number().int().min(1).max(10_000).optional(),
  rate: z.number().int().min(1).optional(),
}).strict();

/** Everything a backfill needs besides its clients. */
export interface BackfillPlan {
  readonly spec: BackfillSpec;
  /** Absolute path of the serialiser module, if any. */
  readonly serializerPath?: string;
  readonly batchSize: number;
  readonly rate?: number;
}

/** Cross checks of a backfill's settings and its config file entry; returns the plan, or the problems. */
export function backfillPlan(c: BackfillSettings): { plan?: BackfillPlan; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [...cacheTtlProblems(c)];
  let entry: z.infer<typeof FILE_ENTRY> = {};
  if (c.config !== undefined) {
    try {
      const file = JSON.parse(readFileSync(c.config, 'utf8')) as Record<string, unknown>;
      const parsed = FILE_ENTRY.safeParse(file[c.namespace]);
      if (file[c.namespace] === undefined) problems.push({ setting: '--config', message: `${c.config} has no entry for namespace ${c.namespace}` });
      else if (!parsed.success) for (const issue of parsed.error.issues) problems.push({ setting: '--config', message: `${c.namespace}.${issue.path.join('.')}: ${issue.message}` });
      else entry = parsed.data;
    } catch (err) {
      problems.push({ setting: '--config', message: `cannot read ${c.config}: ${errorMessage(err)}` });
    }
  }
  const table = c.table ?? entry.table;
  if (table === undefined) problems.push({ setting: '--table', message: 'required (or "table" in --config)' });
  const versionTable = c.versionTable ?? entry.versionTable;
  const versionColumn = c.versionColumn ?? entry.versionColumn;
  if (versionTable !== undefined && versionColumn !== undefined) problems.push({ setting: '--version-column', message: 'give a version column or a version table, not both' });
  const pk = c.pk ?? entry.pk ?? 'id';
  const spec: BackfillSpec = {
    namespace: c.namespace, table: table ?? '', pk, key: c.key ?? entry.key ?? `${c.namespace}:{${pk}}`,
    version: versionTable !== undefined ? { table: versionTable } : { column: versionColumn ?? 'version' },
    columns: c.columns ?? entry.columns, where: c.where ?? entry.where, mode: c.mode ?? entry.mode ?? 'fill',
  };
  problems.push(...specProblems(spec));
  const serializer = c.serializer ?? entry.serializer;
  const base = c.serializer === undefined && c.config !== undefined ? resolve(c.config, '..') : process.cwd();
  const serializerPath = serializer === undefined ? undefined : isAbsolute(serializer) ? serializer : resolve(base, serializer);
  if (serializerPath !== undefined && spec.columns !== undefined) problems.push({ setting: '--columns', message: 'a serialiser module chooses the value itself: give --columns or --serializer' });
  if (problems.length > 0) return { problems };
  return { plan: { spec, serializerPath, batchSize: c.batchSize ?? entry.batchSize ?? 500, rate: c.rate ?? entry.rate }, problems };
}

/** Loads the serialiser module (its default export). A bad module is a usage error. */
export async function loadSerializer(path: string | undefined): Promise<RowSerializer | undefined> {
  if (path === undefined) return undefined;
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (err) {
    throw new ConfigError([{ setting: '--serializer', message: `cannot load ${path}: ${errorMessage(err)}` }]);
  }
  if (typeof mod.default !== 'function') throw new ConfigError([{ setting: '--serializer', message: `${path} must export default (row) => Buffer | string | null` }]);
  return mod.default as RowSerializer;
}

/** A small pool on the database of `url`: the scan of the next batch runs beside the current one. */
export function backfillPool(url: string): Pool {
  const parsed = new URL(url);
  parsed.protocol = 'mysql:';
  return createPool({ uri: parsed.toString(), connectionLimit: 3, supportBigNumbers: true, timezone: 'Z', connectTimeout: 10_000 });
}
