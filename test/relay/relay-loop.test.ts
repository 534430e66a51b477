/**
 * The relay loop against a scripted tail and an in-memory store: checkpoint cadence, its own
 * checkpoint writes echoed back by the binlog, back-pressure, and reopening a broken stream.
 */
import { describe, expect, it } from 'vitest';
import type { OutboxEvent } from '../../src/outbox/event.js';
import { RelayError } from '../../src/relay/errors.js';
import { silentLogger } from '../../src/relay/logger.js';
import type { BinlogPosition } from '../../src/relay/position.js';
import { RelayLoop, type TailHandle, type TailHandlers } from '../../src/relay/relay-loop.js';
import type { CommittedTransaction } from '../../src/relay/transaction-assembler.js';
import { waitUntil } from '../helpers.js';

const at = (position: number): BinlogPosition => ({ file: 'binlog.000001', position });
const event = (version: number): OutboxEvent => ({
  id: `e${version}`, aggregateType: 'a', aggregateId: '1', type: 'T', version: BigInt(version), occurredAtMs: 0, payload: Buffer.alloc(0),
});
const tx = (position: number, events: OutboxEvent[] = [], ownCheckpoint = false): CommittedTransaction =>
  ({ events, invalid: [], position: at(position), ownCheckpoint });

class FakeTail implements TailHandle {
  pauses = 0;
  resumes = 0;
  stopped = false;
  lastPosition: BinlogPosition;
  constructor(readonly from: BinlogPosition, readonly handlers: TailHandlers) {
    this.lastPosition = from;
  }
  deliver(t: CommittedTransaction): void {
    this.lastPosition = t.position;
    this.handlers.onTransaction(t);
  }
  pause(): void { this.pauses += 1; }
  resume(): void { this.resumes += 1; }
  async stop(): Promise<void> { this.stopped = true; }
}

function setup(options: {
  apply?: (events: readonly OutboxEvent[]) => Promise<unknown>; maxQueuedEvents?: number; interval?: number; saveGate?: Promise<void>;
  maxBatchEvents?: number; guard?: () => Promise<void>;
} = {}) {
  const tails: FakeTail[] = [];
  const saves: BinlogPosition[] = [];
  const applied: OutboxEvent[] = [];
  const controller = new AbortController();
  let echo = 10_000;
  const loop = new RelayLoop({
    relayName: 't',
    apply: options.apply ?? (async (events) => void applied.push(...events)),
    signal: controller.signal,
    logger: silentLogger,
    store: {
      async save(position) {
        saves.push(position);
        await options.saveGate;
        // The position write is itself a transaction in the binlog, which the tail reads back.
        echo += 1;
        tails.at(-1)?.deliver(tx(echo, [], true));
      },
    },
    openTail: async (from, handlers) => {
      const tail = new FakeTail(from, handlers);
      tails.push(tail);
      return tail;
    },
    start: at(4),
    checkpointIntervalMs: options.interval ?? 20,
    maxQueuedEvents: options.maxQueuedEvents,
    maxBatchEvents: options.maxBatchEvents,
    guard: options.guard,
    retryDelays: { initialDelayMs: 1, maxDelayMs: 5 },
  });
  return { loop, tails, saves, applied, controller, tail: () => tails.at(-1) as FakeTail };
}

describe('RelayLoop', () => {
  it('stores a position once after activity and does not feed on its own checkpoint writes', async () => {
    const s = setup();
    await s.loop.open();
    const running = s.loop.run();
    s.tail().deliver(tx(100, [event(1)]));
    s.tail().deliver(tx(200));
    await waitUntil('a save', () => s.saves.length >= 1);
    // Several intervals pass with only the echo of its own write in the stream.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(s.saves).toEqual([at(200)]);
    expect(s.loop.stats()).toMatchObject({ transactions: 2, events: 1, storedPosition: at(200) });
    s.controller.abort();
    await running;
    expect(s.tail().stopped).toBe(true);
  });

  it('pauses and retries when apply fails with an unknown error, storing nothing past it; stops on the project\'s non-retriable errors', async () => {
    let failures = 0;
    const applied: OutboxEvent[] = [];
    const s = setup({
      apply: async (events) => {
        if (failures < 3) {
          failures += 1;
          throw new TypeError('socket hang up');
        }
        applied.push(...events);
      },
    });
    await s.loop.open();
    const running = s.loop.run();
    s.tail().deliver(tx(100, [event(1)]));
    await waitUntil('applied after the retries', () => applied.length === 1);
    await waitUntil('stored', () => s.saves.length >= 1);
    expect(failures).toBe(3);
    expect(s.saves[0]).toEqual(at(100));
    s.controller.abort();
    await running;

    const stopping = setup({ apply: async () => { throw new RelayError('too large', { code: 'RELAY_KAFKA_MESSAGE_TOO_LARGE' }); } });
    await stopping.loop.open();
    const stopped = stopping.loop.run();
    stopping.tail().deliver(tx(100, [event(1)]));
    await expect(stopped).rejects.toMatchObject({ code: 'RELAY_KAFKA_MESSAGE_TOO_LARGE' });
    expect(stopping.saves).toEqual([]);
  });

  it('stores the applied position on a graceful stop even inside the checkpoint interval', async () => {
    const s = setup({ interval: 60_000 });
    await s.loop.open();
    const running = s.loop.run();
    s.tail().deliver(tx(300, [event(1)]));
    await waitUntil('applied', () => s.applied.length === 1);
    expect(s.saves).toEqual([]);
    s.controller.abort();
    await running;
    expect(s.saves).toEqual([at(300)]);
  });

  it('keeps applying while a position write is slow, and stores the newest position after it', async () => {
    let release: () => void = () => {};
    const saveGate = new Promise<void>((resolve) => (release = resolve));
    const s = setup({ saveGate, interval: 1 });
    await s.loop.open();
    const running = s.loop.run();
    s.tail().deliver(tx(10, [event(1)]));
    await waitUntil('first save started', () => s.saves.length === 1);
    for (let v = 2; v <= 5; v++) s.tail().deliver(tx(v * 10, [event(v)]));
    await waitUntil('applied while the save hangs', () => s.applied.length === 5);
    expect(s.saves).toEqual([at(10)]);
    release();
    await waitUntil('newest position stored', () => s.loop.stats().storedPosition.position === 50);
    s.controller.abort();
    await running;
  });

  it('pauses the tail above the queue bound and resumes it once the queue drained', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const s = setup({ apply: () => ((calls += 1), gate), maxQueuedEvents: 4 });
    await s.loop.open();
    const running = s.loop.run();
    s.tail().deliver(tx(10, [event(1)]));
    await waitUntil('first batch in flight', () => calls === 1);
    for (let v = 2; v <= 5; v++) s.tail().deliver(tx(v * 10, [event(v)]));
    await waitUntil('paused', () => s.tail().pauses > 0);
    expect(s.tail().resumes).toBe(0);
    release();
    await waitUntil('resumed', () => s.tail().resumes > 0);
    s.controller.abort();
    await running;
  });

  it('reopens a broken stream from the last boundary it delivered and rejects on a permanent error', async () => {
    const s = setup();
    await s.loop.open();
    const running = s.loop.run();
    s.tail().deliver(tx(500, [event(1)]));
    s.tail().handlers.onError(new RelayError('connection lost', { code: 'RELAY_BINLOG_UNAVAILABLE', retriable: true }));
    await waitUntil('reopened', () => s.tails.length === 2);
    expect(s.tails[1]?.from).toEqual(at(500));
    expect(s.tails[0]?.stopped).toBe(true);
    await waitUntil('counted', () => s.loop.stats().reconnects === 1);
    s.tail().handlers.onError(new RelayError('binlog purged', { code: 'RELAY_BINLOG_ERROR' }));
    await expect(running).rejects.toMatchObject({ code: 'RELAY_BINLOG_ERROR' });
    expect(s.tail().stopped).toBe(true);
  });

  it('applies a transaction larger than the batch size in slices and marks its position after the last', async () => {
    const calls: number[] = [];
    const s = setup({ maxBatchEvents: 3, apply: async (events) => void calls.push(events.length) });
    await s.loop.open();
    const running = s.loop.run();
    s.tail().deliver(tx(100, Array.from({ length: 8 }, (_, i) => event(i + 1))));
    await waitUntil('stored', () => s.loop.stats().storedPosition.position === 100);
    expect(calls).toEqual([3, 3, 2]);
    s.controller.abort();
    await running;
  });

  it('stores position-only steps (heartbeats, rotations) only when they reach another binlog file', async () => {
    const s = setup({ interval: 5 });
    await s.loop.open();
    const running = s.loop.run();
    s.tail().handlers.onTransaction({ ...tx(500), quiet: true });
    await waitUntil('applied', () => s.loop.stats().appliedPosition.position === 500);
    s.tail().handlers.onTransaction({ events: [], invalid: [], position: { file: 'binlog.000002', position: 4 }, ownCheckpoint: false, quiet: true });
    await waitUntil('new file stored', () => s.loop.stats().storedPosition.file === 'binlog.000002');
    expect(s.saves).toEqual([{ file: 'binlog.000002', position: 4 }]);
    s.controller.abort();
    await running;
  });

  it('stops without applying when its guard (the relay lock) refuses', async () => {
    const s = setup({ guard: async () => { throw new RelayError('lock lost', { code: 'RELAY_LOCK_LOST' }); } });
    await s.loop.open();
    const running = s.loop.run();
    s.tail().deliver(tx(10, [event(1)]));
    await expect(running).rejects.toMatchObject({ code: 'RELAY_LOCK_LOST' });
    expect(s.applied).toEqual([]);
    expect(s.saves).toEqual([]);
  });

  it('reports paused while an apply is retried and streaming again once it succeeds', async () => {
    let down = true;
    const s = setup({ apply: async () => {
      if (down) throw new RelayError('redis down', { code: 'REDIS_UNAVAILABLE', retriable: true });
    } });
    await s.loop.open();
    const running = s.loop.run();
    expect(s.loop.stats().state).toBe('streaming');
    s.tail().deliver(tx(10, [event(1)]));
    await waitUntil('paused', () => s.loop.stats().state === 'paused');
    down = false;
    await waitUntil('applied', () => s.loop.stats().events === 1);
    expect(s.loop.stats().state).toBe('streaming');
    s.controller.abort();
    await running;
  });
});
