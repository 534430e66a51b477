import { isRetriable } from './errors.js';

/** Options of {@link retry}. Delays are in milliseconds. */
export interface RetryOptions {
  /** First delay; doubled after each failure up to `maxDelayMs`. Default 100. */
  readonly initialDelayMs?: number;
  /** Ceiling of the delay. Default 10,000. */
  readonly maxDelayMs?: number;
  /** Give up after this many attempts (Infinity: never). Default Infinity. */
  readonly maxAttempts?: number;
  /** Stops retrying when aborted; the last error is thrown. */
  readonly signal?: AbortSignal;
  /** Decides whether an error is worth another attempt. Default: the error's `retriable` flag. */
  readonly shouldRetry?: (err: unknown) => boolean;
  /** Called before each wait, e.g. to log or count the failure. */
  readonly onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Runs `fn` until it succeeds, retrying retriable errors with exponential backoff and full
 * jitter. Non-retriable errors are thrown at once. The delay sequence never exceeds `maxDelayMs`.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const initial = options.initialDelayMs ?? 100;
  const max = options.maxDelayMs ?? 10_000;
  const maxAttempts = options.maxAttempts ?? Infinity;
  const shouldRetry = options.shouldRetry ?? isRetriable;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!shouldRetry(err) || attempt >= maxAttempts || options.signal?.aborted) throw err;
      const ceiling = Math.min(max, initial * 2 ** Math.min(attempt - 1, 30));
      const delayMs = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
      options.onRetry?.(err, attempt, delayMs);
      await sleep(delayMs, options.signal);
    }
  }
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
