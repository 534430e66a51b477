/**
 * The process's listener for the apply scripts' invalidations (DESIGN.md §4a): one subscription
 * per Redis client (a single node's channel, or a Cluster's per-slot sharded channels on the
 * masters that serve them), shared by every L1 store reading through that client.
 *
 * A lost subscription loses messages, so when a subscriber connection closes every registered
 * store is cleared before anything is served from L1 again, and the channel counts as live only
 * once SUBSCRIBE (or SSUBSCRIBE) has been confirmed on the new connection. A read may fill L1 only
 * if its key's channel was live when the read began ({@link L1Subscriber.isLive}); the store's
 * generation, bumped by the clear, voids reads that straddle a loss. Subscriber connections are
 * named `<the client's connectionName, or outbox-cache>:l1` in CLIENT LIST.
 */
import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import type { GuardRedis } from '../guard-scripts.js';
import { keySlot } from '../key-slot.js';
import { decodeInvalidations, invalidationChannel, type Invalidation } from './invalidation-channel.js';

/** A store the subscriber feeds (an {@link import('./l1-store.js').L1Store}). */
export interface InvalidationSink {
  invalidate(key: string, version: bigint | null): void;
  clear(): void;
}

/** Counters of the subscriber, for metrics and tests. */
export interface L1SubscriberStats {
  readonly messages: number;
  readonly invalidations: number;
  /** Times the subscription was lost and every L1 cleared. */
  readonly resets: number;
  readonly liveChannels: number;
}

/** See the module comment. Obtain one with {@link l1SubscriberFor}. */
export class L1Subscriber {
  private readonly sinks = new Set<InvalidationSink>();
  private readonly keyPrefix: string;
  private readonly cluster: boolean;
  /** Subscriber connection per node (`host:port`; `single` on a single node). */
  private readonly connections = new Map<string, Redis>();
  /** Confirmed channels, per node. */
  private readonly live = new Map<string, Set<string>>();
  private readonly subscribing = new Map<string, Promise<void>>();
  private counters = { messages: 0, invalidations: 0, resets: 0 };
  private closed = false;

  constructor(private readonly redis: GuardRedis, private readonly onRelease: () => void) {
    this.keyPrefix = String((redis.options as { keyPrefix?: string }).keyPrefix ?? '');
    this.cluster = redis.isCluster;
  }

  /** Adds a store; returns the function that removes it (the last removal closes the subscriber). */
  register(sink: InvalidationSink): () => Promise<void> {
    this.sinks.add(sink);
    return async () => {
      this.sinks.delete(sink);
      if (this.sinks.size === 0) await this.close();
    };
  }

  /** True when invalidations of `key` are being received now. */
  isLive(key: string): boolean {
    const channel = this.channelOf(key);
    for (const channels of this.live.values()) if (channels.has(channel)) return true;
    return false;
  }

  /** Subscribes to the channel of `key` (once); resolves when confirmed, rejects if Redis fails. */
  ensure(key: string): Promise<void> {
    if (this.closed || this.isLive(key)) return Promise.resolve();
    const channel = this.channelOf(key);
    const inFlight = this.subscribing.get(channel);
    if (inFlight) return inFlight;
    const promise = this.subscribe(key, channel).finally(() => this.subscribing.delete(channel));
    this.subscribing.set(channel, promise);
    return promise;
  }

  /** Counters since creation. */
  stats(): L1SubscriberStats {
    let liveChannels = 0;
    for (const channels of this.live.values()) liveChannels += channels.size;
    return { ...this.counters, liveChannels };
  }

  /** Closes every subscriber connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onRelease();
    const connections = [...this.connections.values()];
    this.connections.clear();
    this.live.clear();
    await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
  }

  private channelOf(key: string): string {
    return invalidationChannel(this.keyPrefix, this.keyPrefix + key, this.cluster);
  }

  private async subscribe(key: string, channel: string): Promise<void> {
    const node = this.nodeOf(key);
    const connection = this.connectionFor(node);
    if (connection.status === 'wait') await connection.connect();
    if (this.cluster) await connection.ssubscribe(channel);
    else await connection.subscribe(channel);
    // A close between the command and its confirmation has already reset this node.
    if (connection.status === 'ready' && this.connections.get(node) === connection) {
      let channels = this.live.get(node);
      if (!channels) this.live.set(node, (channels = new Set()));
      channels.add(channel);
    }
  }

  private nodeOf(key: string): string {
    if (!this.cluster) return 'single';
    const slot = keySlot(this.keyPrefix + key);
    const node = (this.redis as Cluster).slots[slot]?.[0];
    if (node === undefined) throw new Error(`no cluster node is known for hash slot ${slot} yet`);
    return node;
  }

  private connectionFor(node: string): Redis {
    const existing = this.connections.get(node);
    if (existing) return existing;
    // Resubscription is done by the reads that need it, after every store was cleared.
    const name = (this.cluster ? (this.redis as Cluster).options.redisOptions?.connectionName : (this.redis as Redis).options.connectionName) ?? 'outbox-cache';
    const own = {
      keyPrefix: '', autoResubscribe: false, lazyConnect: true, enableOfflineQueue: true, maxRetriesPerRequest: 1, connectionName: `${name}:l1`,
    };
    let connection: Redis;
    if (this.cluster) {
      const [host, port] = splitNode(node);
      const base = ((this.redis as Cluster).options.redisOptions ?? {}) as RedisOptions;
      connection = new Redis({ ...base, ...own, host, port });
    } else {
      connection = (this.redis as Redis).duplicate(own);
    }
    connection.on('messageBuffer', (_channel: Buffer, message: Buffer) => this.onMessage(message));
    connection.on('smessageBuffer', (_channel: Buffer, message: Buffer) => this.onMessage(message));
    connection.on('close', () => this.reset(node));
    // A subscriber has no caller to report to; a failure shows as a reset and a non-live channel.
    connection.on('error', () => undefined);
    this.connections.set(node, connection);
    return connection;
  }

  private onMessage(message: Buffer): void {
    this.counters.messages += 1;
    const { invalidations, malformed } = decodeInvalidations(message, this.keyPrefix);
    this.deliver(invalidations);
    if (malformed) this.clearAll();
  }

  private deliver(invalidations: readonly Invalidation[]): void {
    this.counters.invalidations += invalidations.length;
    for (const sink of this.sinks) for (const { key, version } of invalidations) sink.invalidate(key, version);
  }

  /** The node's connection closed: its channels are no longer live and every L1 is cleared. */
  private reset(node: string): void {
    const channels = this.live.get(node);
    this.live.delete(node);
    if (this.closed) return;
    if (channels && channels.size > 0) this.clearAll();
  }

  private clearAll(): void {
    this.counters.resets += 1;
    for (const sink of this.sinks) sink.clear();
  }
}

function splitNode(node: string): [string, number] {
  const at = node.lastIndexOf(':');
  return [node.slice(0, at), Number(node.slice(at + 1))];
}

const subscribers = new WeakMap<GuardRedis, L1Subscriber>();

/** The process's subscriber for `redis`'s invalidations, created on first use. */
export function l1SubscriberFor(redis: GuardRedis): L1Subscriber {
  let subscriber = subscribers.get(redis);
  if (!subscriber) {
    subscriber = new L1Subscriber(redis, () => subscribers.delete(redis));
    subscribers.set(redis, subscriber);
  }
  return subscriber;
}
