/**
 * Where the package's shipped files are, independent of the working directory: this module is
 * two levels below the package root both as `src/demo/*.ts` (tsx, tests) and as
 * `dist/demo/*.js` (the built CLI), and `schemas/` ships next to `dist/`.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** Absolute path of the package root (the folder holding package.json, schemas/ and dist/). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Absolute path of the shipped Avro schemas and their manifest (`schemas/avro`). */
export const SHIPPED_AVRO_DIR = join(PACKAGE_ROOT, 'schemas', 'avro');
