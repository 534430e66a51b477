/** Pure SQL helpers of the outbox: table names, DATETIME(3) text, status flags, DDL, durations. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/cli/commands/outbox-purge.js';
import { compareColumns, OUTBOX_DDL_FILE, outboxDdlFor } from '../../src/outbox/migrate.js';
import { formatDateTime3, isTransactional, mariadbPublishSql, outboxTableName } from '../../src/outbox/sql.js';
import { isRetriableSqlError } from '../../src/outbox/writer.js';

describe('outbox SQL helpers', () => {
  it('accepts table and database.table names and refuses anything else', () => {
    expect(outboxTableName()).toMatchObject({ sql: '`outbox`', table: 'outbox' });
    expect(outboxTableName('app.outbox_2')).toMatchObject({ sql: '`app`.`outbox_2`', database: 'app', table: 'outbox_2' });
    for (const bad of ['', 'a.b.c', 'out-box', 'x`; DROP TABLE y', 'a.', `${'a'.repeat(65)}`]) {
      expect(() => outboxTableName(bad), bad).toThrow(expect.objectContaining({ code: 'OUTBOX_INVALID_TABLE' }));
    }
  });

  it('formats DATETIME(3) text in UTC whatever the local time zone', () => {
    expect(formatDateTime3(Date.UTC(2025, 0, 2, 3, 4, 5, 6))).toBe('2025-01-02 03:04:05.006');
    expect(formatDateTime3(Date.UTC(1000, 0, 1))).toBe('1000-01-01 00:00:00.000');
  });

  it('reads the transaction state from the server status flags', () => {
    expect(isTransactional(0x0002)).toBe(false); // autocommit, idle
    expect(isTransactional(0x0003)).toBe(true); // autocommit, in a transaction
    expect(isTransactional(0x0000)).toBe(true); // autocommit off: nothing commits on its own
    expect(isTransactional(0x4002)).toBe(false); // other flags do not matter
  });

  it('builds the DDL for another table name from the shipped file, as one statement', () => {
    const text = readFileSync(OUTBOX_DDL_FILE, 'utf8');
    const ddl = outboxDdlFor(text, outboxTableName('app.events'));
    expect(ddl.startsWith('CREATE TABLE IF NOT EXISTS `app`.`events` (')).toBe(true);
    expect(ddl).not.toMatch(/;|--/);
    for (const column of ['id', 'aggregatetype', 'aggregateid', 'type', 'version', 'occurred_at', 'payload']) {
      expect(ddl).toMatch(new RegExp(`^\\s+${column}\\s`, 'm'));
    }
  });

  it('compares columns with the contract', () => {
    const good = [
      { name: 'id', type: 'char', length: 36, precision: null },
      { name: 'aggregatetype', type: 'varchar', length: 64, precision: null },
      { name: 'aggregateid', type: 'varchar', length: 255, precision: null },
      { name: 'type', type: 'varchar', length: 128, precision: null },
      { name: 'version', type: 'bigint', length: null, precision: null },
      { name: 'occurred_at', type: 'datetime', length: null, precision: 3 },
      { name: 'payload', type: 'mediumblob', length: '16777215', precision: null },
    ];
    expect(compareColumns(good)).toEqual([]);
    const bad = good.filter((c) => c.name !== 'type').map((c) => (c.name === 'payload' ? { ...c, type: 'blob' } : c));
    expect(compareColumns(bad)).toEqual(['column type is missing', 'column payload is blob(16777215), expected mediumblob']);
  });

  it('builds the MariaDB compound statement: check, INSERT, then DELETE unless kept', () => {
    const table = outboxTableName('app.outbox');
    const full = mariadbPublishSql(table, { check: true, keep: false });
    expect(full).toMatch(/^BEGIN NOT ATOMIC IF @@in_transaction = 0 AND @@autocommit = 1 THEN SIGNAL SQLSTATE '45000' .*; END IF; INSERT INTO `app`.`outbox` \(id, aggregatetype, aggregateid, type, version, occurred_at, payload\) VALUES \(\?, \?, \?, \?, \?, \?, \?\); DELETE FROM `app`.`outbox` WHERE id = \?; END$/);
    expect(mariadbPublishSql(table, { check: true, keep: true })).not.toContain('DELETE');
    expect(mariadbPublishSql(table, { check: false, keep: false })).not.toContain('SIGNAL');
  });

  it('calls only deadlocks, lock wait timeouts and lost connections retriable', () => {
    expect(isRetriableSqlError({ errno: 1213, code: 'ER_LOCK_DEADLOCK' })).toBe(true);
    expect(isRetriableSqlError({ errno: 1205, code: 'ER_LOCK_WAIT_TIMEOUT' })).toBe(true);
    expect(isRetriableSqlError({ code: 'PROTOCOL_CONNECTION_LOST', fatal: true })).toBe(true);
    expect(isRetriableSqlError({ errno: 1062, code: 'ER_DUP_ENTRY' })).toBe(false);
    expect(isRetriableSqlError(new Error('x'))).toBe(false);
    expect(isRetriableSqlError(null)).toBe(false);
  });

  it('parses durations', () => {
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1h')).toBe(3_600_000);
    for (const bad of ['', '0s', '1', 'h', '1.5h', '-1h', '1w']) expect(parseDuration(bad), bad).toBeUndefined();
  });
});
