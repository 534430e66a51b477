/** Loads a user mapping module (an ES module whose default export is a {@link MappingModule}). */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, errorMessage } from '../errors.js';
import { AGGREGATE_TYPE_PATTERN } from '../outbox/event.js';
import type { MappingModule } from './mapping.js';

/**
 * Imports the module at `path` (relative paths resolve against `cwd`) and checks that its default
 * export maps aggregate types (`[A-Za-z0-9_]+`) to functions. Throws {@link ConfigError} naming
 * `setting` when the module cannot be loaded or has the wrong shape, so a bad module stops the
 * sink at start instead of dead-lettering every record.
 */
export async function loadMappingModule(path: string, setting = 'SINK_MAPPING_MODULE', cwd = process.cwd()): Promise<MappingModule> {
  const file = isAbsolute(path) ? path : resolve(cwd, path);
  let loaded: { default?: unknown };
  try {
    loaded = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    throw new ConfigError([{ setting, message: `cannot load mapping module ${file}: ${errorMessage(err)}` }]);
  }
  const mappings = loaded.default;
  if (typeof mappings !== 'object' || mappings === null || Array.isArray(mappings)) {
    throw new ConfigError([{ setting, message: `${file} must have a default export: an object of aggregate type → function` }]);
  }
  const problems = Object.entries(mappings)
    .filter(([type, fn]) => !AGGREGATE_TYPE_PATTERN.test(type) || typeof fn !== 'function')
    .map(([type]) => ({ setting, message: `${file}: entry '${type}' must be an aggregate type ([A-Za-z0-9_]+) mapped to a function` }));
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ ...(mappings as MappingModule) });
}
