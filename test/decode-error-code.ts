import { expect } from 'vitest';
import { DecodeError } from '../src/errors.js';

/**
 * Runs `fn` and returns the code of the DecodeError it throws (asserting it is one, and not
 * retriable), or undefined when it does not throw.
 */
export function decodeErrorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).retriable).toBe(false);
    return (err as DecodeError).code;
  }
  return undefined;
}
