/** The operations endpoint: `/metrics` (Prometheus text), `/healthz` (liveness) and `/readyz` (readiness). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { OutboxCacheError } from '../errors.js';

/** Options of {@link startOpsServer}. */
export interface OpsServerOptions {
  readonly registry: Registry;
  /** 0 picks a free port. */
  readonly port: number;
  readonly host?: string;
  /** Liveness: false makes /healthz answer 503 (e.g. the consumer crashed). Default always true. */
  readonly healthy?: () => boolean;
  /** Readiness: false makes /readyz answer 503 (not joined yet, or paused on an outage). */
  readonly ready: () => boolean;
}

/** A running ops server. */
export interface OpsServer {
  /** The port actually bound. */
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the HTTP server; resolves once it listens. */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const status = (ok: boolean): void => {
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'unavailable\n');
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
    } else if (path === '/healthz') {
      status(options.healthy?.() ?? true);
    } else if (path === '/readyz') {
      status(options.ready());
    } else if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'the port is in use' : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' ? 'the host name does not resolve' : err.message;
      reject(new OutboxCacheError(`cannot serve /metrics, /healthz and /readyz on ${host}:${options.port}: ${why} (${err.code ?? err.message}); set METRICS_PORT / METRICS_HOST`, {
        code: 'OPS_LISTEN_FAILED', cause: err,
      }));
    });
    server.listen(options.port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
