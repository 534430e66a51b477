/**
 * The Prisma adapter against the real MariaDB, through the shared adapter contract: Prisma 7's
 * client generated from test/fixtures/prisma/schema.prisma, running over the mariadb driver
 * adapter (`@prisma/adapter-mariadb`, no query engine binary).
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import { expect } from 'vitest';
import { nextVersion, publishEvent, type PrismaRawClient } from '../../src/orm/prisma.js';
import { uniqueSuffix } from '../helpers.js';
import { describeOrmAdapter, type OutsideAction } from './suite.js';

const attempt = (tx: PrismaRawClient, action: OutsideAction): Promise<unknown> =>
  action.kind === 'publish' ? publishEvent(tx, action.event) : nextVersion(tx, 'user', '424242');

const run = promisify(execFile);
const require = createRequire(import.meta.url);

/** The part of the generated client the test uses. */
interface TestPrismaClient extends PrismaRawClient {
  $transaction<T>(fn: (tx: TestPrismaClient) => Promise<T>): Promise<T>;
  $disconnect(): Promise<void>;
  user: { update(args: { where: { id: number }; data: { name: string } }): Promise<unknown> };
}

/**
 * Generates the client into a fresh folder under node_modules/.cache (where it resolves
 * @prisma/client). The Prisma CLI insists that a schema engine binary exists before any command,
 * and would download it, though `generate` never runs it (the schema is read by WebAssembly);
 * this machine reaches only the npm registry, so the variable points at an empty stand-in file.
 */
async function generateClient(): Promise<{ PrismaClient: new (options: { adapter: PrismaMariaDb }) => TestPrismaClient; dir: string }> {
  const nodeModules = dirname(dirname(dirname(require.resolve('@prisma/client/package.json'))));
  const dir = join(nodeModules, '.cache', `outbox-cache-prisma-${uniqueSuffix()}`);
  await mkdir(dir, { recursive: true });
  await copyFile(new URL('../fixtures/prisma/schema.prisma', import.meta.url), join(dir, 'schema.prisma'));
  await writeFile(join(dir, 'schema-engine-not-used'), '');
  await run(process.execPath, [join(nodeModules, 'prisma', 'build', 'index.js'), 'generate', '--schema', join(dir, 'schema.prisma')], {
    cwd: dir,
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: join(dir, 'schema-engine-not-used'), PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
  });
  return { PrismaClient: require(join(dir, 'client')).PrismaClient, dir };
}

describeOrmAdapter('prisma', async (db) => {
  const { PrismaClient, dir } = await generateClient();
  const url = new URL(db.url);
  const prisma = new PrismaClient({
    adapter: new PrismaMariaDb({ host: url.hostname, port: Number(url.port), user: decodeURIComponent(url.username), database: db.name, connectionLimit: 4 }),
  });
  return {
    updateAndPublish: (userId, name, event) =>
      prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { id: userId }, data: { name } });
        return publishEvent(tx, event);
      }),
    async publishThenRollBack(userId, event) {
      let id = '';
      const rolledBack = new Error('domain rule failed');
      await expect(
        prisma.$transaction(async (tx) => {
          await tx.user.update({ where: { id: userId }, data: { name: 'gone' } });
          id = (await publishEvent(tx, event)).id;
          throw rolledBack;
        }),
      ).rejects.toBe(rolledBack);
      return id;
    },
    outsideTransactions: (action) => [
      // The client itself: a pool.
      () => attempt(prisma, action),
      // A transaction client kept past its transaction.
      async () => attempt(await prisma.$transaction(async (tx) => tx), action),
    ],
    transact: (work) =>
      prisma.$transaction((tx) =>
        work({
          exec: async (sql, params) => void (await tx.$executeRawUnsafe(sql, ...params)),
          publish: (event) => publishEvent(tx, event),
          nextVersion: (type, id) => nextVersion(tx, type, id),
        }),
      ),
    close: async () => {
      await prisma.$disconnect();
      await rm(dir, { recursive: true, force: true });
    },
  };
  // `prisma generate` starts the CLI and compiles the schema: seconds alone, a minute or more on a loaded machine.
}, 300_000);
