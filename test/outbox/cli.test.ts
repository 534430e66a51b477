/** `outbox-cache migrate` and `outbox-cache outbox purge` against the real MariaDB. */
import { PassThrough } from 'node:stream';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Command } from '../../src/cli/command.js';
import { migrateCommand } from '../../src/cli/commands/migrate.js';
import { outboxPurgeCommand } from '../../src/cli/commands/outbox-purge.js';
import { ConfigError } from '../../src/errors.js';
import { purgeOutbox } from '../../src/outbox/purge.js';
import { withOutboxTransaction } from '../../src/outbox/writer.js';
import { createTestDatabase, type TestDatabase } from '../helpers.js';
import { userEvent } from './fixtures.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('outbox_cli');
});
afterAll(async () => db?.drop());

async function runCommand(command: Command, argv: string[], env: Record<string, string | undefined> = { MYSQL_URL: db.url }) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await command.run({ argv, env, stdout, stderr, signal: new AbortController().signal });
  return { code, out };
}

async function configProblems(command: Command, argv: string[], env: Record<string, string | undefined>): Promise<string[]> {
  const err = await runCommand(command, argv, env).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).problems.map((p) => p.setting);
}

async function count(table: string): Promise<number> {
  const [rows] = await db.pool.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${table}\``);
  return Number(rows[0]?.n);
}

describe('outbox-cache migrate', () => {
  it('creates the tables once and is idempotent afterwards, for any table name', async () => {
    expect(await runCommand(migrateCommand, [])).toEqual({ code: 0, out: 'created outbox table `outbox`\ncreated version table `outbox_version`\n' });
    expect(await runCommand(migrateCommand, [])).toEqual({
      code: 0, out: 'outbox table `outbox` already exists and matches the contract\nversion table `outbox_version` already exists\n',
    });
    const qualified = `${db.name}.events_out`;
    const serverOnly = db.url.replace(`/${db.name}`, '/');
    expect((await runCommand(migrateCommand, ['--table', qualified, '--mysql-url', serverOnly])).out).toBe(
      `created outbox table \`${db.name}\`.\`events_out\`\nversion table \`${db.name}\`.\`outbox_version\` already exists\n`,
    );
    const [versionCols] = await db.pool.query<RowDataPacket[]>(
      "SELECT COLUMN_NAME AS c, COLUMN_TYPE AS t, COLUMN_KEY AS k FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'outbox_version' ORDER BY ORDINAL_POSITION",
    );
    expect(versionCols.map((r) => `${r.c} ${String(r.t).replace(/^bigint\(20\)$/, 'bigint')} ${r.k}`)).toEqual([
      'aggregatetype varchar(64) PRI', 'aggregateid varchar(255) PRI', 'version bigint ',
    ]);
    const [cols] = await db.pool.query<RowDataPacket[]>(
      "SELECT COLUMN_NAME AS c, COLUMN_TYPE AS t FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'outbox' ORDER BY ORDINAL_POSITION",
    );
    expect(cols.map((r) => `${r.c} ${String(r.t).replace(/^bigint\(20\)$/, 'bigint')}`)).toEqual([
      'id char(36)', 'aggregatetype varchar(64)', 'aggregateid varchar(255)', 'type varchar(128)',
      'version bigint', 'occurred_at datetime(3)', 'payload mediumblob',
    ]);
  });

  it('refuses an existing table with other columns', async () => {
    await db.pool.query('CREATE TABLE not_outbox (id INT PRIMARY KEY, payload BLOB)');
    await expect(runCommand(migrateCommand, ['--table', 'not_outbox'])).rejects.toMatchObject({
      code: 'OUTBOX_TABLE_MISMATCH',
      message: expect.stringContaining('column id is int, expected char(36)'),
    });
  });

  it('reports every bad setting at once without echoing the URL', async () => {
    expect(await configProblems(migrateCommand, ['--table', 'a-b'], {})).toEqual(['--table', 'MYSQL_URL']);
    expect(await configProblems(migrateCommand, ['--mysql-url', 'mysql://u:pw@127.0.0.1:1/'], {})).toEqual(['--mysql-url']);
    expect(await configProblems(migrateCommand, ['--bogus'], {})).toEqual(['--bogus', 'MYSQL_URL']);
    const err = (await runCommand(migrateCommand, [], { MYSQL_URL: 'mysql://u:hunter2@h:1/' }).catch((e: unknown) => e)) as Error;
    expect(err.message).not.toContain('hunter2');
  });
});

describe('outbox-cache outbox purge', () => {
  it('deletes only kept rows older than the cut-off, in batches', async () => {
    await runCommand(migrateCommand, []);
    const hoursAgo = (h: number): Date => new Date(Date.now() - h * 3_600_000);
    await withOutboxTransaction(
      db.pool,
      async (_conn, publish) => {
        for (let i = 0; i < 7; i++) await publish(userEvent(i, 1, { occurredAt: hoursAgo(2 + i) }));
        for (let i = 0; i < 2; i++) await publish(userEvent(100 + i, 1, { occurredAt: hoursAgo(0.5) }));
      },
      { keep: true },
    );
    expect(await count('outbox')).toBe(9);
    expect(await runCommand(outboxPurgeCommand, ['--older-than', '1h', '--batch-size', '3'])).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^deleted 7 outbox rows older than \d{4}-\d\d-\d\dT/),
    });
    expect(await count('outbox')).toBe(2);
    expect((await runCommand(outboxPurgeCommand, ['--older-than', '1h'])).out).toMatch(/^deleted 0 outbox rows/);
    expect(await count('outbox')).toBe(2);
  });

  it('runs each batch as its own statement and refuses a connection inside a transaction', async () => {
    await db.pool.query('DELETE FROM outbox');
    await withOutboxTransaction(
      db.pool,
      async (_conn, publish) => {
        for (let i = 0; i < 5; i++) await publish(userEvent(i, 1, { occurredAt: new Date(Date.now() - 60_000) }));
      },
      { keep: true },
    );
    const conn = await db.pool.getConnection();
    try {
      const batches: number[] = [];
      const result = await purgeOutbox(conn, { olderThanMs: 1000, batchSize: 2, onBatch: (n) => batches.push(n) });
      expect(batches).toEqual([2, 2, 1]);
      expect(result).toMatchObject({ deleted: 5, aborted: false });
      await conn.beginTransaction();
      await expect(purgeOutbox(conn, { olderThanMs: 1000 })).rejects.toMatchObject({ code: 'OUTBOX_PURGE_IN_TRANSACTION' });
      await conn.rollback();
      const aborted = new AbortController();
      aborted.abort();
      expect(await purgeOutbox(conn, { olderThanMs: 1000, signal: aborted.signal })).toMatchObject({ deleted: 0, aborted: true });
    } finally {
      conn.release();
    }
  });

  it('requires a positive --older-than and a sane --batch-size', async () => {
    const env = { MYSQL_URL: db.url };
    expect(await configProblems(outboxPurgeCommand, [], env)).toEqual(['--older-than']);
    expect(await configProblems(outboxPurgeCommand, ['--older-than', '0s', '--batch-size', '0'], env)).toEqual(['--older-than', '--batch-size']);
    expect(await configProblems(outboxPurgeCommand, ['--older-than', '1h', '--batch-size', '20000'], env)).toEqual(['--batch-size']);
  });
});
