import { findBinary, killChild, spawnServer, type LocalServer } from './process.js';

/** librdkafka's mock Kafka cluster, served by a `kcat` process, reachable over real TCP. */
export interface LocalKafkaMock extends LocalServer {
  /** Bootstrap servers, e.g. `['127.0.0.1:40001', ...]`. */
  readonly brokers: string[];
}

/**
 * Starts librdkafka's mock cluster (DESIGN.md §6): `kcat` in consumer mode on a mock cluster keeps
 * it alive and prints its bootstrap servers. Topics are auto-created with 4 partitions.
 */
export async function startKafkaMock(options: { brokers?: number; timeoutMs?: number } = {}): Promise<LocalKafkaMock> {
  const binary = findBinary('kcat', 'kcat');
  let resolveBrokers: (brokers: string[]) => void = () => {};
  const found = new Promise<string[]>((resolve) => (resolveBrokers = resolve));
  const spawned = spawnServer(
    binary,
    ['-b', '127.0.0.1:1', '-C', '-t', '__mock_keepalive', '-q',
      '-X', `test.mock.num.brokers=${options.brokers ?? 3}`, '-X', 'debug=mock', '-X', 'log_level=7'],
    (line) => {
      const match = /bootstrap\.servers=(\S+)/.exec(line);
      if (match?.[1]) resolveBrokers(match[1].split(','));
    },
  );
  // The debug stream keeps flowing; drain it so the pipe never fills and blocks kcat.
  const timeoutMs = options.timeoutMs ?? 15_000;
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`kcat mock cluster not ready after ${timeoutMs} ms\n${spawned.output()}`)), timeoutMs);
    spawned.child.once('exit', () => reject(new Error(`kcat mock cluster ${spawned.exitReason() ?? 'exited'}`)));
  });
  try {
    const brokers = await Promise.race([found, failed]);
    return {
      pid: spawned.child.pid ?? -1,
      brokers,
      stop: (graceMs?: number) => killChild(spawned.child, graceMs),
    };
  } catch (err) {
    await killChild(spawned.child, 1000);
    throw err;
  } finally {
    clearTimeout(timer);
    failed.catch(() => {});
  }
}
