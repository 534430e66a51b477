/**
 * Static checks of docker-compose.yml (no container engine runs here): it parses; every build
 * path, env file and mount source exists; dependencies are sound; the services built from this
 * repository run commands the CLI has, with the settings those commands need; addresses point at
 * services of the stack; the connector gets every value it needs from the right container.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { parseSinkConfig } from '../../src/config/sink.js';
import { connectorPlaceholders, parseConnectorFile, resolveConnector } from '../../src/connect/connector-file.js';
import {
  ROOT,
  asList,
  composeSchemaErrors,
  dependencies,
  exists,
  loadCompose,
  nodeInvocations,
  readEnvFile,
  serviceEnv,
  type ComposeFile,
  type ComposeService,
} from './compose-model.js';

const compose = loadCompose();
const services = compose.services;
const names = Object.keys(services);
const service = (name: string): ComposeService => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service '${name}'`);
  return s;
};
const ONE_SHOT = new Set(['setup']);

/** tsconfig.build.json maps src/**.ts to dist/**.js (rootDir → outDir). */
function sourceOf(compiled: string): string {
  const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { rootDir: string; outDir: string } };
  const { rootDir, outDir } = build.compilerOptions;
  const rel = posix.relative(outDir, posix.normalize(compiled));
  expect(rel.startsWith('..'), `${compiled} is not under ${outDir}`).toBe(false);
  return posix.join(rootDir, rel.replace(/\.js$/, '.ts'));
}

function commandPath(args: readonly string[]): string | undefined {
  let best: string[] | undefined;
  for (const c of COMMANDS) {
    if (c.path.every((w, i) => args[i] === w) && (!best || c.path.length > best.length)) best = [...c.path];
  }
  return best?.join(' ');
}

describe('docker-compose.yml', () => {
  it('conforms to the Compose Specification schema', () => {
    expect(composeSchemaErrors(compose)).toEqual([]);
    expect(Object.keys(compose).sort()).toEqual(['name', 'services', 'volumes']);
  });

  it('would be refused by the schema check with a misspelt key, a wrong type or an unknown condition', () => {
    const broken = structuredClone(compose) as unknown as { services: Record<string, Record<string, unknown>> };
    broken.services.sink!.restrat = 'always';
    broken.services.kafka!.environment = { KAFKA_NODE_ID: { id: 1 } };
    broken.services['demo-writer']!.depends_on = { setup: { condition: 'service_done' } };
    const errors = composeSchemaErrors(broken);
    expect(errors.some((e) => e.startsWith('/services/sink:') && e.includes('restrat'))).toBe(true);
    expect(errors.some((e) => e.startsWith('/services/kafka/environment/KAFKA_NODE_ID:'))).toBe(true);
    expect(errors.some((e) => e.startsWith('/services/demo-writer/depends_on/setup/condition:'))).toBe(true);
  });

  it('reads YAML as YAML: anchors, merge keys and block scalars parse', () => {
    const text = 'x-env: &env\n  A: "1"\nservices:\n  a:\n    image: redis:7.4\n    environment:\n      <<: *env\n      B: |\n        two\n        lines\n';
    const doc = parse(text, { merge: true }) as ComposeFile;
    expect(doc.services.a?.environment).toEqual({ A: '1', B: 'two\nlines\n' });
    expect(composeSchemaErrors(doc)).toEqual([]);
  });

  it('has the whole stack', () => {
    expect(names.sort()).toEqual(['connect', 'demo-writer', 'grafana', 'kafka', 'mysql', 'prometheus', 'redis', 'schema-registry', 'setup', 'sink'].sort());
  });

  it('pins every image to a version, with the versions the design asks for', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.image, `${name} has an image`).toBeTruthy();
      expect(s.image, `${name} image is pinned`).toMatch(/:[\w.-]+$/);
      expect(s.image).not.toMatch(/:latest$/);
    }
    // A patch version each: `8.4` and `3.0` move to new releases under the same name.
    expect(service('mysql').image).toMatch(/^mysql:8\.4\.\d+$/);
    expect(service('connect').image).toBe('quay.io/debezium/connect:3.0.8.Final');
    expect(service('kafka').image).toMatch(/^apache\/kafka:(3\.(8|9)|4\.)/);
    expect(service('schema-registry').image).toMatch(/^confluentinc\/cp-schema-registry:/);
    expect(service('redis').image).toMatch(/^redis:/);
  });

  it('says in comments what the pinned images are (Debezium 3.0.8 on Kafka Connect 3.9.0)', () => {
    const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    const connectComment = text.slice(text.search(/^ {2}connect:$/m), text.indexOf('image: quay.io/debezium/connect'));
    expect(connectComment).toMatch(/^ {2}connect:\n/);
    expect(connectComment).toContain('Debezium 3.0.8 on Kafka Connect 3.9.0');
    expect(text).not.toMatch(/Kafka Connect 3\.8/);
  });

  it('keeps Kafka’s log dirs on a named volume, so Connect’s offsets and the registry’s schemas survive a recreate', () => {
    const kafka = service('kafka');
    const logDirs = String(kafka.environment?.KAFKA_LOG_DIRS ?? '');
    expect(logDirs).not.toBe('');
    for (const dir of logDirs.split(',')) {
      const mount = (kafka.volumes ?? []).find((v) => v.split(':')[1] === dir);
      expect(mount, `${dir} is mounted`).toBeDefined();
      expect(Object.keys(compose.volumes ?? {})).toContain(mount!.split(':')[0]);
    }
  });

  it('gives the setup service only the variables its commands and the connector file read, no password', () => {
    const setup = service('setup');
    expect(setup.env_file).toBeUndefined();
    const [, , ...args] = nodeInvocations(setup).find((r) => r.includes('apply'))!;
    const spec = parseConnectorFile(readFileSync(join(ROOT, args[2]!), 'utf8'), args[2]!);
    const read = new Set(['SCHEMA_REGISTRY_URL', 'KAFKA_CONNECT_URL', ...connectorPlaceholders(spec).map((p) => p.variable)]);
    for (const key of Object.keys(setup.environment ?? {})) expect(read.has(key), `setup sets ${key}, which nothing reads`).toBe(true);
    expect(Object.keys(serviceEnv(setup)).filter((k) => /PASSWORD|SECRET|TOKEN/.test(k))).toEqual([]);
    expect(serviceEnv(setup).DEBEZIUM_DB_USER).toBe(serviceEnv(service('mysql')).DEBEZIUM_DB_USER);
  });

  it('builds the outbox-cache services from this repository’s Dockerfile', () => {
    for (const name of ['sink', 'setup', 'demo-writer']) {
      const build = service(name).build;
      const context = typeof build === 'string' ? build : build?.context;
      const dockerfile = typeof build === 'string' ? 'Dockerfile' : (build?.dockerfile ?? 'Dockerfile');
      expect(context, `${name} build context`).toBe('.');
      expect(exists(join(context ?? '', dockerfile)), `${name}: ${dockerfile}`).toBe(true);
      expect(service(name).image).toBe('outbox-cache:local');
    }
  });

  it('references only env files, mount sources and volumes that exist', () => {
    const declared = Object.keys(compose.volumes ?? {});
    const used = new Set<string>();
    for (const [name, s] of Object.entries(services)) {
      for (const file of asList(s.env_file)) expect(exists(file), `${name}: env file ${file}`).toBe(true);
      for (const volume of s.volumes ?? []) {
        const [source] = volume.split(':') as [string];
        if (source.startsWith('./') || source.startsWith('/')) {
          expect(source.startsWith('./'), `${name}: host path ${source} must be inside the repository`).toBe(true);
          expect(exists(source), `${name}: mount source ${source}`).toBe(true);
        } else {
          expect(declared, `${name}: volume ${source} is declared`).toContain(source);
          used.add(source);
        }
      }
    }
    expect([...used].sort()).toEqual(declared.sort());
  });

  it('has sound dependencies: known services, health checks behind service_healthy, one-shots behind completed, no cycle', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, condition] of dependencies(s)) {
        expect(names, `${name} depends on ${dep}`).toContain(dep);
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(condition);
        if (condition === 'service_healthy') expect(service(dep).healthcheck, `${dep} needs a healthcheck`).toBeDefined();
        if (condition === 'service_completed_successfully') expect(ONE_SHOT.has(dep), `${dep} is a one-shot`).toBe(true);
        if (condition !== 'service_completed_successfully') expect(ONE_SHOT.has(dep), `${name} waits for one-shot ${dep} to complete`).toBe(false);
      }
    }
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (name: string, path: string[]): void => {
      if (done.has(name)) return;
      expect(visiting.has(name), `dependency cycle ${[...path, name].join(' → ')}`).toBe(false);
      visiting.add(name);
      for (const [dep] of dependencies(service(name))) visit(dep, [...path, name]);
      visiting.delete(name);
      done.add(name);
    };
    names.forEach((n) => visit(n, []));
  });

  it('gives every long-running service a health check and the one-shot no restart', () => {
    for (const [name, s] of Object.entries(services)) {
      if (ONE_SHOT.has(name)) expect(s.restart, `${name} restart`).toBe('no');
      else if (name !== 'demo-writer') expect(asList(s.healthcheck?.test)[0], `${name} healthcheck`).toMatch(/^CMD(-SHELL)?$/);
    }
  });

  it('starts the demo writer only after the connector runs (snapshot.mode=no_data starts at the binlog end)', () => {
    expect(dependencies(service('demo-writer'))).toContainEqual(['setup', 'service_completed_successfully']);
    const setupDeps = dependencies(service('setup'));
    for (const dep of ['connect', 'schema-registry', 'mysql']) expect(setupDeps).toContainEqual([dep, 'service_healthy']);
  });

  it('runs MySQL with the binlog Debezium needs (ROW, FULL images, GTID) and its init scripts', () => {
    const mysql = service('mysql');
    const args = asList(mysql.command);
    for (const flag of ['--log-bin=mysql-bin', '--binlog-format=ROW', '--binlog-row-image=FULL', '--gtid-mode=ON', '--enforce-gtid-consistency=ON']) {
      expect(args).toContain(flag);
    }
    expect(args.some((a) => /^--server-id=\d+$/.test(a))).toBe(true);
    expect(mysql.volumes).toContain('./connectors/mysql-init:/docker-entrypoint-initdb.d:ro');
    const schemaScript = readFileSync(join(ROOT, 'connectors/mysql-init/20-outbox-schema.sh'), 'utf8');
    const sqlDir = /OUTBOX_SQL_DIR:-([^}]+)\}/.exec(schemaScript)?.[1];
    expect(mysql.volumes).toContain(`./schemas/sql:${sqlDir}:ro`);
    const scripts = readdirSync(join(ROOT, 'connectors/mysql-init'));
    expect(scripts).toEqual(['10-debezium-user.sh', '20-outbox-schema.sh']);
    expect(readdirSync(join(ROOT, 'schemas/sql')).filter((f) => f.endsWith('.sql')).length).toBeGreaterThan(0);
  });

  it('runs, in the services built here, only CLI commands that exist, from the compiled entry point', () => {
    const seen: string[] = [];
    for (const name of ['sink', 'setup', 'demo-writer']) {
      const runs = nodeInvocations(service(name));
      expect(runs.length, `${name} runs the CLI`).toBeGreaterThan(0);
      for (const [, entry, ...args] of runs) {
        expect(entry).toBe('dist/cli/main.js');
        expect(sourceOf(entry!)).toBe('src/cli/main.ts');
        expect(exists(sourceOf(entry!))).toBe(true);
        const words = args.filter((a) => !a.startsWith('-')).slice(0, 2).join(' ');
        seen.push(words);
        expect(commandPath(args), `outbox-cache ${args.join(' ')}`).toBeDefined();
      }
    }
    expect(seen).toEqual(['sink', 'schemas push', 'connectors apply', 'demo writer']);
  });

  it.skipIf(!commandPath(['demo', 'writer']))('runs the demo writer command, now that the CLI has it', () => {
    expect(commandPath(['demo', 'writer'])).toBe('demo writer');
  });

  it('gives the sink a configuration its parser accepts, consuming every shipped subject’s topic', () => {
    const env = serviceEnv(service('sink'));
    for (const key of ['KAFKA_BROKERS', 'KAFKA_GROUP_ID', 'SCHEMA_REGISTRY_URL', 'REDIS_URL', 'DLQ_TOPIC', 'METRICS_PORT']) expect(env).toHaveProperty(key);
    const config = parseSinkConfig(env);
    const subjects = JSON.parse(readFileSync(join(ROOT, 'schemas/avro/subjects.json'), 'utf8')) as { subjects: Record<string, unknown> };
    const topics = Object.keys(subjects.subjects).map((s) => s.replace(/-value$/, ''));
    expect([...(config.topics ?? [])].sort()).toEqual(topics.sort());
    const health = asList(service('sink').healthcheck?.test).join(' ');
    expect(health).toContain(`http://127.0.0.1:${env.METRICS_PORT}/readyz`);
  });

  it('applies a connector file that exists, with every variable it needs set where it is resolved', () => {
    const [, , ...args] = nodeInvocations(service('setup')).find((r) => r.includes('apply'))!;
    const file = args[2]!;
    expect(exists(file), file).toBe(true);
    const spec = parseConnectorFile(readFileSync(join(ROOT, file), 'utf8'), file);
    const setupEnv = serviceEnv(service('setup'));
    for (const p of connectorPlaceholders(spec)) {
      if (p.defaultValue === undefined) expect(setupEnv, `setup sets ${p.variable}`).toHaveProperty(p.variable);
    }
    const resolved = resolveConnector(spec, setupEnv);
    const mysqlEnv = serviceEnv(service('mysql'));
    expect(resolved.config['database.hostname']).toBe('mysql');
    expect(resolved.config['database.user']).toBe(mysqlEnv.DEBEZIUM_DB_USER ?? 'debezium');
    expect(resolved.config['database.include.list']).toBe(mysqlEnv.MYSQL_DATABASE);
    expect(resolved.config['table.include.list']).toBe(`${mysqlEnv.MYSQL_DATABASE}.outbox`);
    expect(resolved.config['schema.history.internal.kafka.bootstrap.servers']).toBe(serviceEnv(service('sink')).KAFKA_BROKERS);

    // ${env:NAME} is resolved by the Connect worker from its own environment.
    const connectEnv = serviceEnv(service('connect'));
    expect(connectEnv.CONNECT_CONFIG_PROVIDERS?.split(',')).toContain('env');
    expect(connectEnv.CONNECT_CONFIG_PROVIDERS_ENV_CLASS).toBe('org.apache.kafka.common.config.provider.EnvVarConfigProvider');
    const allow = new RegExp(connectEnv.CONNECT_CONFIG_PROVIDERS_ENV_PARAM_ALLOWLIST_PATTERN ?? '.*');
    const workerVars = Object.values(resolved.config).flatMap((v) => [...v.matchAll(/\$\{env:([^}:]+)\}/g)].map((m) => m[1]!));
    expect(workerVars).toEqual(['DEBEZIUM_DB_PASSWORD']);
    for (const v of workerVars) {
      expect(connectEnv, `connect has ${v}`).toHaveProperty(v);
      expect(allow.test(v), `allowlist admits ${v}`).toBe(true);
      expect(connectEnv[v]).toBe(mysqlEnv[v]);
    }
  });

  it('points every address at a service of the stack', () => {
    const known = new Set([...names, 'localhost', '127.0.0.1', '0.0.0.0', '']);
    for (const [name, s] of Object.entries(services)) {
      for (const [key, value] of Object.entries(serviceEnv(s))) {
        for (const part of value.split(',')) {
          const m = /^(?:[A-Za-z][\w+.-]*:\/\/)?(?:[^@/]*@)?([A-Za-z0-9.-]*):(\d+)(?:\/.*)?$/.exec(part.trim());
          if (m) expect(known.has(m[1]!), `${name} ${key}=${value}: host '${m[1]}'`).toBe(true);
        }
      }
    }
  });

  it('keeps credentials in env files and publishes ports on 127.0.0.1 only', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const key of Object.keys(s.environment ?? {})) expect(key, `${name} sets a secret inline`).not.toMatch(/PASSWORD|SECRET|TOKEN/);
      for (const port of s.ports ?? []) expect(port, `${name} port`).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
    const mysql = serviceEnv(service('mysql'));
    const app = readEnvFile('connectors/compose/app.env');
    const url = new URL(app.MYSQL_URL!);
    expect([url.hostname, url.port, decodeURIComponent(url.username), decodeURIComponent(url.password), url.pathname]).toEqual([
      'mysql',
      '3306',
      mysql.MYSQL_USER,
      mysql.MYSQL_PASSWORD,
      `/${mysql.MYSQL_DATABASE}`,
    ]);
  });
});
