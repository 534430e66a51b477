import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { connectorPlaceholders, parseConnectorFile, resolveConnector } from '../../src/connect/connector-file.js';

const file = (config: Record<string, unknown>, name: unknown = 'outbox-mysql'): string => JSON.stringify({ name, config });

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.setting}: ${p.message}`);
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConnectorFile', () => {
  it('reads name and config, turning numbers and booleans into Connect strings', () => {
    const spec = parseConnectorFile(file({ 'connector.class': 'X', 'tasks.max': 1, 'include.schema.changes': false }), 'f.json');
    expect(spec).toEqual({ name: 'outbox-mysql', config: { 'connector.class': 'X', 'tasks.max': '1', 'include.schema.changes': 'false' } });
  });

  it('reports every problem at once, naming the file and the setting', () => {
    const found = problems(() =>
      parseConnectorFile(JSON.stringify({ name: '', config: { a: { nested: 1 }, b: null }, extra: 1 }), 'bad.json'),
    );
    expect(found).toEqual([
      'bad.json: name: must be a non-empty string',
      'bad.json: config.a: must be a string, number or boolean',
      'bad.json: config.b: must be a string, number or boolean',
      'bad.json: config.connector.class: is required',
      'bad.json: extra: unknown field (only "name" and "config")',
    ]);
  });

  it('refuses text that is not JSON or not an object', () => {
    expect(problems(() => parseConnectorFile('{"name":', 'x.json'))[0]).toMatch(/^x\.json: not valid JSON/);
    expect(problems(() => parseConnectorFile('[]', 'x.json'))[0]).toMatch(/expected an object/);
  });
});

describe('resolveConnector', () => {
  const spec = parseConnectorFile(
    file({
      'connector.class': 'io.debezium.connector.mysql.MySqlConnector',
      'database.hostname': '${DEBEZIUM_DB_HOST}',
      'database.port': '${DEBEZIUM_DB_PORT:-3306}',
      'database.password': '${env:DEBEZIUM_DB_PASSWORD}',
      'secret.file': '${file:/etc/secrets.properties:password}',
      'table.include.list': '${OUTBOX_DATABASE:-app}.${OUTBOX_TABLE:-outbox}',
      'schema.history.internal.kafka.bootstrap.servers': '${DEBEZIUM_KAFKA_BOOTSTRAP_SERVERS}',
      'transforms.outbox.route.topic.replacement': 'outbox.event.${routedByValue}',
      'topic.prefix': '${DEBEZIUM_TOPIC_PREFIX:-outbox-mysql}',
    }),
    'c.json',
  );

  it('replaces capital placeholders from the environment, using defaults for unset or empty ones', () => {
    const resolved = resolveConnector(spec, {
      DEBEZIUM_DB_HOST: 'db.internal',
      DEBEZIUM_DB_PORT: '',
      DEBEZIUM_KAFKA_BOOTSTRAP_SERVERS: 'k1:9092,k2:9092',
      OUTBOX_TABLE: 'events',
    });
    expect(resolved.config['database.hostname']).toBe('db.internal');
    expect(resolved.config['database.port']).toBe('3306');
    expect(resolved.config['table.include.list']).toBe('app.events');
    expect(resolved.config['schema.history.internal.kafka.bootstrap.servers']).toBe('k1:9092,k2:9092');
    expect(resolved.config['topic.prefix']).toBe('outbox-mysql');
  });

  it('leaves config provider references and Debezium placeholders for the worker', () => {
    const resolved = resolveConnector(spec, { DEBEZIUM_DB_HOST: 'h', DEBEZIUM_KAFKA_BOOTSTRAP_SERVERS: 'k:9092', env: 'x', routedByValue: 'y' });
    expect(resolved.config['database.password']).toBe('${env:DEBEZIUM_DB_PASSWORD}');
    expect(resolved.config['secret.file']).toBe('${file:/etc/secrets.properties:password}');
    expect(resolved.config['transforms.outbox.route.topic.replacement']).toBe('outbox.event.${routedByValue}');
  });

  it('lists every missing variable with the settings that use it', () => {
    expect(problems(() => resolveConnector(spec, { DEBEZIUM_DB_HOST: '' }))).toEqual([
      expect.stringMatching(/^DEBEZIUM_DB_HOST: not set \(used by database\.hostname\)/),
      expect.stringMatching(/^DEBEZIUM_KAFKA_BOOTSTRAP_SERVERS: not set \(used by schema\.history\.internal\.kafka\.bootstrap\.servers\)/),
    ]);
  });

  it('substitutes in the connector name too', () => {
    const named = parseConnectorFile(file({ 'connector.class': 'X' }, 'outbox-${SITE:-dev}'), 'n.json');
    expect(resolveConnector(named, { SITE: 'eu1' }).name).toBe('outbox-eu1');
  });

  it('lists placeholders once per variable, required where any use lacks a default', () => {
    const listed = connectorPlaceholders(
      parseConnectorFile(file({ 'connector.class': 'X', a: '${A:-1}', b: '${A}', c: '${B:-x}', d: '${env:C}' }), 'p.json'),
    );
    expect(listed).toEqual([
      { variable: 'A', defaultValue: undefined },
      { variable: 'B', defaultValue: 'x' },
    ]);
  });
});
