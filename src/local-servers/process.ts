import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { OutboxCacheError } from '../errors.js';

/** A server process this module started, stopped by its own PID and nothing else. */
export interface LocalServer {
  /** PID of the process started (stopping kills exactly this process). */
  readonly pid: number;
  /** Stops the process (SIGTERM, then SIGKILL after `graceMs`) and removes its temp directory. */
  stop(graceMs?: number): Promise<void>;
}

/** Thrown when a server binary is not installed; names the Debian package that provides it. */
export class MissingBinaryError extends OutboxCacheError {
  constructor(binary: string, debianPackage: string) {
    super(
      `'${binary}' was not found on PATH. Install it with: apt-get install -y ${debianPackage}` +
        ` (or set the matching *_URL / KAFKA_BROKERS variable to use an existing server)`,
      { code: 'MISSING_BINARY' },
    );
  }
}

/** Returns the absolute path of `binary` on PATH (plus /usr/sbin), or throws {@link MissingBinaryError}. */
export function findBinary(binary: string, debianPackage: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new MissingBinaryError(binary, debianPackage);
}

/** Asks the kernel for a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not allocate a port'));
      });
    });
  });
}

/**
 * Polls `probe` until it resolves true or `timeoutMs` passes. Throws with `what` and the last
 * probe error when the deadline passes, or at once when `failed()` reports the process died.
 */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; failed?: () => string | undefined },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    const failure = options.failed?.();
    if (failure) throw new Error(`${what}: ${failure}`);
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`${what} not ready after ${options.timeoutMs} ms${detail}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
  }
}

/** Spawned child with its recent output kept, for error messages when it fails to start. */
export interface Spawned {
  readonly child: ChildProcess;
  /** Last few KB of stdout+stderr. */
  output(): string;
  /** Set once the process has exited; describes how. */
  exitReason(): string | undefined;
}

/**
 * Spawns `binary` with `args`, capturing the tail of its output and its exit. The server gets a
 * process group of its own, so a terminal's Ctrl-C reaches only this process, which then stops
 * its servers in order (the demo still needs them to print its summary); if this process exits
 * without stopping it, the server is killed.
 */
export function spawnServer(binary: string, args: string[], onLine?: (line: string) => void): Spawned {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  let buffer = '';
  let exited: string | undefined;
  let partial = '';
  const collect = (chunk: Buffer): void => {
    const text = chunk.toString('utf8');
    buffer = (buffer + text).slice(-8192);
    if (onLine) {
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.on('error', (err) => {
    exited = `failed to start: ${err.message}`;
  });
  child.on('exit', (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}\n${buffer}`;
  });
  return { child, output: () => buffer, exitReason: () => exited };
}

/** Kills exactly `child` (SIGTERM, then SIGKILL after `graceMs`) and waits for it to exit. */
export async function killChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
