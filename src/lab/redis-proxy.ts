/**
 * A TCP proxy in front of Redis, so the lab can make Redis fail for the application without
 * touching the server the auditor reads: while blocked, it drops every connection and refuses new
 * ones (clients see connection errors; with their offline queue off, every call fails at once).
 * Written by hand: it is a few lines of `net` and no proxy library offers "refuse for a while".
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** A running proxy. */
export interface RedisProxy {
  /** `redis://127.0.0.1:PORT` of the proxy. */
  readonly url: string;
  /** Drops every connection and refuses new ones until {@link unblock}. */
  block(): void;
  unblock(): void;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port that forwards to Redis on `targetPort`. */
export async function startRedisProxy(targetPort: number): Promise<RedisProxy> {
  const sockets = new Set<Socket>();
  let blocked = false;
  const server: Server = createServer((client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `redis://127.0.0.1:${port}`,
    block() {
      blocked = true;
      for (const socket of sockets) socket.destroy();
    },
    unblock() {
      blocked = false;
    },
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}
