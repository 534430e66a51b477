/**
 * Local MariaDB, Redis and Kafka (librdkafka mock cluster) servers for tests, benchmarks and the
 * demo. Each runs on 127.0.0.1, a free port and a temporary directory, and is stopped by the PID
 * this module started, never by name.
 */
export { startMariaDb, type LocalMariaDb, type StartMariaDbOptions } from './mariadb.js';
export { startRedis, type LocalRedis, type StartRedisOptions } from './redis.js';
export { startKafkaMock, type LocalKafkaMock } from './kafka-mock.js';
export { MissingBinaryError, waitFor, type LocalServer } from './process.js';
