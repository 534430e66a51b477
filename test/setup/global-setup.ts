/**
 * Starts the real servers the integration tests use (DESIGN.md §6), once per run: MariaDB with the
 * binlog on, Redis, and librdkafka's mock Kafka cluster. Set MYSQL_URL, REDIS_URL or
 * KAFKA_BROKERS to use an existing server instead. Each server is stopped by the PID started here.
 */
import type { TestProject } from 'vitest/node';
import { startKafkaMock, startMariaDb, startRedis, type LocalServer } from '../../src/local-servers/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mysqlUrl: string;
    redisUrl: string;
    kafkaBrokers: string[];
    /** PIDs of the servers started by this setup, by kind (empty where an external server is used). */
    serverPids: { mariadb?: number; redis?: number; kafka?: number };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started: LocalServer[] = [];
  const pids: { mariadb?: number; redis?: number; kafka?: number } = {};
  const teardown = async (): Promise<void> => {
    await Promise.all(started.map((s) => s.stop()));
  };
  try {
    const [mysqlUrl, redisUrl, kafkaBrokers] = await Promise.all([
      process.env.MYSQL_URL ??
        startMariaDb().then((s) => (started.push(s), (pids.mariadb = s.pid), s.url)),
      process.env.REDIS_URL ??
        startRedis().then((s) => (started.push(s), (pids.redis = s.pid), s.url)),
      process.env.KAFKA_BROKERS?.split(',') ??
        startKafkaMock().then((s) => (started.push(s), (pids.kafka = s.pid), s.brokers)),
    ]);
    project.provide('mysqlUrl', mysqlUrl);
    project.provide('redisUrl', redisUrl);
    project.provide('kafkaBrokers', kafkaBrokers);
    project.provide('serverPids', pids);
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
