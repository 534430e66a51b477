/**
 * The compose stack's MySQL init scripts (connectors/mysql-init/*.sh), run by bash exactly as the
 * mysql image's entrypoint sources them, against the test MariaDB: `docker_process_sql` is
 * replaced by the same client call on TCP. Checks the Debezium user gets exactly the documented
 * privileges (and works with an awkward password) and the outbox table lands in MYSQL_DATABASE.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { uniqueName } from '../helpers.js';
import { ROOT } from './compose-model.js';

const run = promisify(execFile);
const INIT_DIR = join(ROOT, 'connectors/mysql-init');
const PASSWORD = `pa'ss\\w"rd $x;`;

// The entrypoint's docker_process_sql, on TCP instead of the init server's socket: selects
// MYSQL_DATABASE first so that a --database argument can override it.
const STUB = `
set -eo pipefail
docker_process_sql() {
  if [ -n "$MYSQL_DATABASE" ]; then set -- --database="$MYSQL_DATABASE" "$@"; fi
  mariadb --no-defaults --protocol=tcp -h "$DB_HOST" -P "$DB_PORT" -u root --comments "$@"
}
for f in ${INIT_DIR}/*; do
  case "$f" in
    *.sh) . "$f" ;;
    *) echo "unexpected init file $f" >&2; exit 1 ;;
  esac
done
`;

let admin: Connection;
let server: URL;
const database = uniqueName('app');
const user = uniqueName('dbz');

async function runInit(env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  return run('bash', ['-c', STUB], {
    env: { PATH: process.env.PATH ?? '', DB_HOST: server.hostname, DB_PORT: server.port, ...env },
    cwd: ROOT,
  });
}
const initEnv = (): Record<string, string> => ({
  MYSQL_DATABASE: database,
  DEBEZIUM_DB_USER: user,
  DEBEZIUM_DB_PASSWORD: PASSWORD,
  OUTBOX_SQL_DIR: join(ROOT, 'schemas/sql'),
});

beforeAll(async () => {
  server = new URL(inject('mysqlUrl'));
  admin = await createConnection(inject('mysqlUrl'));
  // The mysql image creates MYSQL_DATABASE before it runs the init scripts.
  await admin.query(`CREATE DATABASE \`${database}\``);
});
afterAll(async () => {
  await admin.query(`DROP USER IF EXISTS '${user}'@'%'`);
  await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await admin.end();
});

describe('connectors/mysql-init', () => {
  it('holds only the scripts the entrypoint runs, in the order they must run', () => {
    expect(readdirSync(INIT_DIR)).toEqual(['10-debezium-user.sh', '20-outbox-schema.sh']);
  });

  it('creates the Debezium user with exactly the privileges Debezium documents, and the outbox table', async () => {
    const { stdout } = await runInit(initEnv());
    expect(stdout).toContain(`applying ${join(ROOT, 'schemas/sql')}/`);

    const [grants] = await admin.query<RowDataPacket[]>(`SHOW GRANTS FOR '${user}'@'%'`);
    const privileges = new Set<string>();
    for (const row of grants) {
      const text = String(Object.values(row)[0]);
      const m = /^GRANT (.+) ON \*\.\* TO /.exec(text);
      if (!m) throw new Error(`unexpected grant: ${text.replace(/PASSWORD '[^']*'/, "PASSWORD '…'")}`);
      // MariaDB 10.5+ names REPLICATION CLIENT "BINLOG MONITOR".
      for (const p of m[1]!.split(', ')) privileges.add(p === 'BINLOG MONITOR' ? 'REPLICATION CLIENT' : p);
    }
    expect([...privileges].sort()).toEqual(['RELOAD', 'REPLICATION CLIENT', 'REPLICATION SLAVE', 'SELECT', 'SHOW DATABASES']);

    const [columns] = await admin.query<RowDataPacket[]>(
      'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position',
      [database, 'outbox'],
    );
    expect(columns.map((c) => c.name)).toEqual(['id', 'aggregatetype', 'aggregateid', 'type', 'version', 'occurred_at', 'payload']);
  });

  it('lets Debezium log in with the password from the environment, read the binlog state, and nothing more', async () => {
    const dbz = await createConnection({ host: server.hostname, port: Number(server.port), user, password: PASSWORD, database });
    try {
      const [logs] = await dbz.query<RowDataPacket[]>('SHOW BINARY LOGS');
      expect(logs.length).toBeGreaterThan(0);
      await dbz.query('SELECT * FROM outbox LIMIT 1');
      await expect(dbz.query("DELETE FROM outbox WHERE id = 'x'")).rejects.toThrow(/denied/i);
      await expect(dbz.query('CREATE TABLE t (x INT)')).rejects.toThrow(/denied/i);
    } finally {
      await dbz.end();
    }
  });

  it('can run again without harm', async () => {
    await runInit(initEnv());
    const [tables] = await admin.query<RowDataPacket[]>(`SHOW TABLES FROM \`${database}\` LIKE 'outbox'`);
    expect(tables).toHaveLength(1);
  });

  it('fails with a clear message when a script is executed instead of sourced, and nothing is created', async () => {
    for (const script of readdirSync(INIT_DIR)) {
      const executed = await run('bash', [join(INIT_DIR, script)], {
        env: { PATH: process.env.PATH ?? '', ...initEnv(), DEBEZIUM_DB_USER: `${user}_x` },
        cwd: ROOT,
      }).catch((e: { code: number; stdout: string; stderr: string }) => e);
      expect(executed, script).toMatchObject({ code: 1, stdout: '', stderr: expect.stringContaining(`${script}: must be sourced by the mysql image's entrypoint, not executed`) });
    }
    const [users] = await admin.query<RowDataPacket[]>('SELECT user FROM mysql.user WHERE user = ?', [`${user}_x`]);
    expect(users).toHaveLength(0);
  });

  it('are sourced, never executed, by the entrypoint: no executable bit, LF line ends kept by .gitattributes', async () => {
    for (const script of readdirSync(INIT_DIR)) {
      const path = join(INIT_DIR, script);
      expect(statSync(path).mode & 0o111, `${script} is not executable`).toBe(0);
      expect(readFileSync(path, 'utf8'), `${script} has LF line ends`).not.toContain('\r');
      const { stdout } = await run('git', ['check-attr', 'eol', '--', `connectors/mysql-init/${script}`], { cwd: ROOT });
      expect(stdout.trim()).toBe(`connectors/mysql-init/${script}: eol: lf`);
    }
    const { stdout } = await run('git', ['check-attr', 'eol', '--', 'scripts/any-new-script.sh'], { cwd: ROOT });
    expect(stdout.trim()).toBe('scripts/any-new-script.sh: eol: lf');
  });

  it('stops the initialisation when the password or the SQL files are missing', async () => {
    const noPassword = await runInit({ ...initEnv(), DEBEZIUM_DB_PASSWORD: '' }).catch((e: { code: number; stderr: string }) => e);
    expect(noPassword).toMatchObject({ code: 1, stderr: expect.stringContaining('DEBEZIUM_DB_PASSWORD is not set') });
    const noSql = await runInit({ ...initEnv(), OUTBOX_SQL_DIR: join(ROOT, 'connectors') }).catch((e: { code: number; stderr: string }) => e);
    expect(noSql).toMatchObject({ code: 1, stderr: expect.stringContaining('no .sql file in') });
  });
});
