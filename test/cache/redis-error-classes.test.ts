/**
 * Which Redis failures are poison (the key's fault) and which pause (the server's): only
 * WRONGTYPE belongs to the key; every other reply, known or not, is retriable.
 */
import { ReplyError as AnyReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { isPoison, ScriptError } from '../../src/errors.js';
import { toScriptError } from '../../src/cache/redis-calls.js';

/** The error class ioredis gives replies (typed `any` by ioredis). */
const ReplyError = AnyReplyError as new (message: string) => Error;

describe('toScriptError', () => {
  it.each([
    'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.',
    'NOAUTH Authentication required.',
    'WRONGPASS invalid username-password pair or user is disabled.',
    "NOPERM User sink has no permissions to run the 'evalsha' command",
    "READONLY You can't write against a read only replica.",
    "OOM command not allowed when used memory > 'maxmemory'.",
    'LOADING Redis is loading the dataset in memory',
    'BUSY Redis is busy running a script.',
    'CLUSTERDOWN The cluster is down',
    'TRYAGAIN Multiple keys request during rehashing of slot',
    'MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no',
    'NOSCRIPT No matching script. Please use EVAL.',
    'ERR Error running script (call to f_0123): @user_script:9: user_script:9: Script attempted to access nonexistent global variable',
    'SOMETHINGNEW a reply no one has seen yet',
  ])('retries %s', (message) => {
    const err = toScriptError(new ReplyError(message), 'apply');
    expect(err).toMatchObject({ code: 'REDIS_REFUSED', retriable: true });
    expect(isPoison(err)).toBe(false);
  });

  it.each([
    'WRONGTYPE Operation against a key holding the wrong kind of value',
    'ERR Error running script (call to f_0123): @user_script:3: WRONGTYPE Operation against a key holding the wrong kind of value',
  ])('dead-letters %s', (message) => {
    const err = toScriptError(new ReplyError(message), 'apply');
    expect(err).toMatchObject({ code: 'CACHE_KEY_WRONG_TYPE', retriable: false });
    expect(isPoison(err)).toBe(true);
  });

  it('retries connection failures and timeouts', () => {
    expect(toScriptError(new Error('Connection is closed.'), 'apply')).toMatchObject({ code: 'REDIS_UNAVAILABLE', retriable: true });
    expect(isPoison(new ScriptError('x', { code: 'REDIS_REPLY_INVALID', retriable: true }))).toBe(false);
  });
});
