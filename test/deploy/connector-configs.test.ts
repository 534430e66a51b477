/**
 * The shipped connector files against the settings verified on a real Debezium 2.7.4
 * (test/fixtures/debezium-2.7.4-outbox/connector-mysql.json, DESIGN.md §3), the outbox DDL in schemas/sql and
 * the topic naming of src/outbox/event.ts.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConnectorFile, resolveConnector, type ConnectorSpec } from '../../src/connect/connector-file.js';
import { outboxTopic } from '../../src/outbox/event.js';
import { loadCompose, ROOT } from './compose-model.js';

const load = (file: string): ConnectorSpec => parseConnectorFile(readFileSync(join(ROOT, file), 'utf8'), file);
const mysql = load('connectors/outbox-mysql.json');
const mariadb = load('connectors/outbox-mariadb.json');
const verified = load('test/fixtures/debezium-2.7.4-outbox/connector-mysql.json');

/** Settings that differ per site: placeholders in the shipped files, literal values in the fixture. */
const SITE_SETTINGS = [
  'database.hostname',
  'database.port',
  'database.user',
  'database.password',
  'database.server.id',
  'topic.prefix',
  'database.include.list',
  'table.include.list',
  'schema.history.internal.kafka.bootstrap.servers',
  'schema.history.internal.kafka.topic',
];
/** Settings added to the verified set, each with the value the EventRouter / Connect default has or a reason. */
const ADDED = {
  // EventRouter defaults, written out so the column names are visible next to the others.
  'transforms.outbox.table.field.event.id': 'id',
  'transforms.outbox.table.field.event.payload': 'payload',
  // Connect creates the outbox topics with the brokers' defaults even where brokers have
  // auto.create.topics.enable=false (KIP-158; -1 = broker default).
  'topic.creation.default.replication.factor': '-1',
  'topic.creation.default.partitions': '-1',
};

/**
 * The MariaDB connector's TLS setting, for the pinned image (quay.io/debezium/connect:3.0.8.Final):
 * from 3.0.8 on its values are the MariaDB driver's (`disable`, `trust`, `verify-ca`,
 * `verify-full`) and `disabled` is refused; Debezium 2.7 to 3.0.7 take the MySQL connector's
 * values and need `disabled` (docs/deploying.md).
 */
const MARIADB_ADDED = { 'database.ssl.mode': 'disable' };

/** Column names of the outbox table (DESIGN.md §2), the ones Debezium's EventRouter expects. */
const DESIGN_COLUMNS = ['id', 'aggregatetype', 'aggregateid', 'type', 'version', 'occurred_at', 'payload'];

function ddlColumns(): string[] {
  const dir = join(ROOT, 'schemas/sql');
  const ddl = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
  const table = /CREATE TABLE IF NOT EXISTS `?outbox`?\s*\(([\s\S]*?)\)\s*ENGINE/i.exec(ddl);
  if (!table) throw new Error('schemas/sql has no CREATE TABLE outbox');
  return table[1]!
    .split('\n')
    .map((l) => l.replace(/--.*$/, '').trim())
    .filter((l) => l !== '' && !/^(PRIMARY|KEY|UNIQUE|INDEX|CONSTRAINT)\b/i.test(l))
    .map((l) => l.split(/\s+/)[0]!.replace(/`/g, ''));
}

/** The outbox columns a connector's EventRouter settings name. */
function routerColumns(spec: ConnectorSpec): string[] {
  const c = spec.config;
  const placed = (c['transforms.outbox.table.fields.additional.placement'] ?? '').split(',').map((e) => e.split(':')[0]!);
  return [
    c['transforms.outbox.table.field.event.id'] ?? 'id',
    c['transforms.outbox.route.by.field'] ?? 'aggregatetype',
    c['transforms.outbox.table.field.event.key'] ?? 'aggregateid',
    c['transforms.outbox.table.field.event.timestamp'] ?? '',
    c['transforms.outbox.table.field.event.payload'] ?? 'payload',
    ...placed,
  ];
}

describe('connector files', () => {
  it('use the Debezium connector class of their database', () => {
    expect(mysql.config['connector.class']).toBe('io.debezium.connector.mysql.MySqlConnector');
    expect(mariadb.config['connector.class']).toBe('io.debezium.connector.mariadb.MariaDbConnector');
    expect([mysql.name, mariadb.name]).toEqual(['outbox-mysql', 'outbox-mariadb']);
  });

  it('keep every setting verified on a real Debezium, adding only documented ones', () => {
    for (const spec of [mysql, mariadb]) {
      const expected: Record<string, string> = { ...ADDED, ...(spec === mariadb ? MARIADB_ADDED : {}) };
      for (const [key, value] of Object.entries(verified.config)) {
        if (key === 'connector.class' || SITE_SETTINGS.includes(key)) continue;
        expected[key] = value;
      }
      const actual = Object.fromEntries(Object.entries(spec.config).filter(([k]) => k !== 'connector.class' && !SITE_SETTINGS.includes(k)));
      expect(actual, spec.name).toEqual(expected);
      expect(Object.keys(spec.config).filter((k) => SITE_SETTINGS.includes(k)).sort()).toEqual([...SITE_SETTINGS].sort());
    }
  });

  it('give the MariaDB connector the TLS value the pinned Debezium accepts, and the MySQL one none', () => {
    expect(mariadb.config['database.ssl.mode']).toBe('disable');
    expect(mysql.config['database.ssl.mode']).toBeUndefined();
    const image = loadCompose().services.connect?.image;
    expect(image).toBe('quay.io/debezium/connect:3.0.8.Final');
  });

  it('say what DESIGN.md §3 says arrives in Kafka', () => {
    const c = mysql.config;
    expect(c['transforms.outbox.type']).toBe('io.debezium.transforms.outbox.EventRouter');
    expect(c['transforms.outbox.route.topic.replacement']).toBe(outboxTopic('${routedByValue}'));
    expect(c['key.converter']).toBe('org.apache.kafka.connect.storage.StringConverter');
    expect(c['value.converter']).toBe('io.debezium.converters.BinaryDataConverter');
    expect(c['value.converter.delegate.converter.type']).toBeTruthy();
    expect(c['header.converter']).toBe('org.apache.kafka.connect.storage.SimpleHeaderConverter');
    expect(c['transforms.outbox.table.fields.additional.placement']).toBe('type:header:type,version:header:version');
    expect(c['transforms.outbox.table.field.event.timestamp']).toBe('occurred_at');
    expect(c['snapshot.mode']).toBe('no_data');
    expect(Number(c['heartbeat.interval.ms'])).toBeGreaterThan(0);
    expect(c['skipped.operations']?.split(',')).toContain('d');
    expect(c['tombstones.on.delete']).toBe('false');
  });

  it('name only columns the outbox DDL and DESIGN.md §2 have', () => {
    const columns = ddlColumns();
    expect(columns).toEqual(DESIGN_COLUMNS);
    for (const spec of [mysql, mariadb]) {
      const named = routerColumns(spec);
      expect(new Set(named)).toEqual(new Set(DESIGN_COLUMNS));
      for (const column of named) expect(columns, `${spec.name} names ${column}`).toContain(column);
    }
  });

  it('hold no connection secret: the password is a config provider reference resolved on the worker', () => {
    for (const spec of [mysql, mariadb]) {
      expect(spec.config['database.password']).toMatch(/^\$\{(env|file|directory):[^}]+\}$/);
      expect(spec.config['database.hostname']).toMatch(/^\$\{[A-Z_]+\}$/);
      expect(spec.config['database.user']).toMatch(/^\$\{[A-Z_]+(:-[^}]*)?\}$/);
      for (const value of Object.values(spec.config)) expect(value).not.toMatch(/^(dbz|debezium|secret|password)$/i);
    }
  });

  it('resolve to the verified connection settings when given the same values', () => {
    const env = {
      DEBEZIUM_DB_HOST: '127.0.0.1',
      DEBEZIUM_DB_PORT: '3307',
      DEBEZIUM_DB_SERVER_ID: '5501',
      DEBEZIUM_TOPIC_PREFIX: 'mysqlc',
      DEBEZIUM_KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:9092',
    };
    const resolved = resolveConnector(mysql, env).config;
    for (const key of SITE_SETTINGS.filter((k) => k !== 'database.password')) expect(resolved[key], key).toBe(verified.config[key]);
  });

  it('do not collide when both run on one Kafka Connect cluster', () => {
    const env = { DEBEZIUM_DB_HOST: 'db', DEBEZIUM_KAFKA_BOOTSTRAP_SERVERS: 'kafka:9092' };
    const a = resolveConnector(mysql, env).config;
    const b = resolveConnector(mariadb, env).config;
    for (const key of ['database.server.id', 'topic.prefix', 'schema.history.internal.kafka.topic']) expect(a[key], key).not.toBe(b[key]);
  });
});
