import { describe, expect, it } from 'vitest';
import type { OutboxEvent } from '../../src/outbox/event.js';
import { TransactionQueue } from '../../src/relay/transaction-queue.js';

function events(n: number, tag: string): OutboxEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${tag}${i}`, aggregateType: 'a', aggregateId: '1', type: 'T', version: BigInt(i + 1), occurredAtMs: 0, payload: Buffer.alloc(0),
  }));
}
const at = (position: number) => ({ file: 'f', position });

describe('TransactionQueue', () => {
  it('takes whole transactions up to the event bound, at least one, in order', () => {
    const queue = new TransactionQueue();
    queue.push(events(2, 'a'), at(10));
    queue.push(events(2, 'b'), at(20));
    queue.push(events(5, 'c'), at(30));
    expect(queue.eventCount).toBe(9);
    const first = queue.take(3);
    expect(first?.events.map((e) => e.id)).toEqual(['a0', 'a1']);
    expect(first?.position).toEqual(at(10));
    const second = queue.take(4);
    expect(second?.events.map((e) => e.id)).toEqual(['b0', 'b1']);
    const big = queue.take(4);
    expect(big?.events).toHaveLength(5);
    expect(big?.position).toEqual(at(30));
    expect(queue.take(4)).toBeUndefined();
    expect(queue.eventCount).toBe(0);
  });

  it('collapses runs of event-less transactions into one position move', () => {
    const queue = new TransactionQueue();
    queue.push([], at(1));
    queue.push([], at(2));
    queue.push(events(1, 'x'), at(3));
    queue.push([], at(4));
    queue.push([], at(5));
    const batch = queue.take(100);
    expect(batch).toMatchObject({ transactions: 3, position: at(5) });
    expect(batch?.events.map((e) => e.id)).toEqual(['x0']);
  });

  it('wakes a waiter on push and reports false on timeout or abort', async () => {
    const queue = new TransactionQueue();
    const controller = new AbortController();
    expect(await queue.waitForEntries(1, controller.signal)).toBe(false);
    const waiting = queue.waitForEntries(60_000, controller.signal);
    queue.push([], at(7));
    expect(await waiting).toBe(true);
    queue.take(1);
    const aborted = queue.waitForEntries(60_000, controller.signal);
    controller.abort();
    expect(await aborted).toBe(false);
  });

  it('queues chunks of an open transaction without a position; a batch carries the last complete one', () => {
    const queue = new TransactionQueue();
    queue.push(events(1, 'a'), at(10));
    queue.push(events(2, 'b'), undefined);
    expect(queue.take(10)?.position).toEqual(at(10));
    queue.push(events(2, 'c'), undefined);
    const chunk = queue.take(2);
    expect(chunk?.position).toBeUndefined();
    queue.push(events(1, 'd'), at(20), { timestampMs: 5 });
    expect(queue.take(10)).toMatchObject({ position: at(20), timestampMs: 5, quiet: false });
  });

  it('merges runs of position-only entries, quiet only while all of them are', () => {
    const queue = new TransactionQueue();
    queue.push([], at(10), { quiet: true });
    queue.push([], at(20), { quiet: true });
    expect(queue.take(5)).toMatchObject({ position: at(20), quiet: true, transactions: 1 });
    queue.push([], at(30), { quiet: true });
    queue.push([], at(40));
    expect(queue.take(5)).toMatchObject({ position: at(40), quiet: false });
  });
});
