/**
 * Each ORM adapter is its own entry point (`outbox-cache/orm/<name>`): importing one must not load
 * any other ORM. Checked on the source's runtime import graph (type-only imports are erased),
 * so the test needs no build and no server.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const ORM_PACKAGES = ['knex', 'kysely', 'typeorm', 'sequelize', 'drizzle-orm', '@prisma/client', '@prisma/adapter-mariadb', 'prisma', 'mariadb'];

/** Bare package names a module loads at run time, following relative imports through src/. */
function runtimePackages(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
    for (const node of source.statements) {
      let specifier: string | undefined;
      if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly) {
        const bindings = node.importClause?.namedBindings;
        const onlyTypes = node.importClause && !node.importClause.name && bindings && ts.isNamedImports(bindings) && bindings.elements.every((e) => e.isTypeOnly);
        if (!onlyTypes) specifier = (node.moduleSpecifier as ts.StringLiteral).text;
      } else if (ts.isExportDeclaration(node) && !node.isTypeOnly && node.moduleSpecifier) {
        specifier = (node.moduleSpecifier as ts.StringLiteral).text;
      }
      if (specifier === undefined) continue;
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else if (!specifier.startsWith('node:')) packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!);
    }
  };
  visit(entry);
  return packages;
}

describe('ORM adapter entry points', () => {
  it.each([
    { adapter: 'knex', own: [] },
    { adapter: 'kysely', own: ['kysely'] },
    { adapter: 'typeorm', own: [] },
    { adapter: 'sequelize', own: [] },
    { adapter: 'drizzle', own: ['drizzle-orm'] },
    { adapter: 'prisma', own: [] },
    { adapter: 'index', own: [] },
  ])('the $adapter adapter loads no ORM but its own ($own)', ({ adapter, own }) => {
    const loaded = runtimePackages(resolve(SRC, 'orm', `${adapter}.ts`));
    expect([...loaded].filter((p) => ORM_PACKAGES.includes(p)).sort()).toEqual(own);
    // The outbox writer behind every adapter loads no Kafka, binlog or metrics library either.
    expect([...loaded].filter((p) => ['kafkajs', '@vlasky/zongji', 'prom-client', 'ioredis'].includes(p))).toEqual([]);
  });
});
