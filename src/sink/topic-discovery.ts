/**
 * Which topics a subscription covers, decided from the cluster's topic list. kafkajs resolves a
 * RegExp only once, when the consumer subscribes; the sink lists the cluster's topics itself
 * (at start and periodically) and subscribes to the names these functions return, so a topic
 * created later (Debezium creates `outbox.event.<type>` with its first event) is picked up.
 */

/** Kafka's convention for internal topics: `__consumer_offsets`, `__debezium-heartbeat.<prefix>`, ... */
const INTERNAL_TOPIC = /^__/;

/**
 * The topics `subscription` names among `existing`: every literal name (whether it exists or not,
 * as kafkajs subscribes to it), and every existing topic a RegExp matches, except internal topics
 * (names starting with `__`, which include Debezium's heartbeat topics): they never carry outbox
 * records. Sorted, without duplicates. Stateful flags (`g`, `y`) of a RegExp are ignored.
 */
export function matchTopics(subscription: readonly (string | RegExp)[], existing: Iterable<string>): string[] {
  const out = new Set<string>();
  const patterns: RegExp[] = [];
  for (const entry of subscription) {
    if (typeof entry === 'string') out.add(entry);
    else patterns.push(new RegExp(entry.source, entry.flags.replace(/[gy]/g, '')));
  }
  if (patterns.length > 0) {
    for (const topic of existing) {
      if (!INTERNAL_TOPIC.test(topic) && patterns.some((p) => p.test(topic))) out.add(topic);
    }
  }
  return [...out].sort();
}

/** The topics of `matched` that are not in `subscribed`, in the order of `matched`. */
export function addedTopics(subscribed: ReadonlySet<string>, matched: readonly string[]): string[] {
  return matched.filter((topic) => !subscribed.has(topic));
}

/** True when `subscription` contains a RegExp (its topics must be discovered). */
export function hasPattern(subscription: readonly (string | RegExp)[]): boolean {
  return subscription.some((entry) => entry instanceof RegExp);
}
