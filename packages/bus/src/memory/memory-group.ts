import type { TopicPartitions } from "../bus.ts";
import type { MemoryBroker } from "./memory-broker.ts";

export interface GroupMember {
  readonly topics: readonly string[];
  /** Resolves once the member has no batch in flight; it fetches nothing more until `assign` is called. */
  pause(): Promise<void>;
  assign(assignment: TopicPartitions[]): Promise<void>;
}

/**
 * One consumer group. Rebalances are eager, as with kafkajs: every member stops and finishes its batch in flight
 * before any partition changes hands, so two members never process the same partition at once.
 */
export class MemoryGroup {
  readonly #broker: MemoryBroker;
  readonly #members: GroupMember[] = [];
  #rebalancing: Promise<void> = Promise.resolve();

  constructor(broker: MemoryBroker) {
    this.#broker = broker;
  }

  get size(): number {
    return this.#members.length;
  }

  join(member: GroupMember): Promise<void> {
    this.#members.push(member);
    return this.#rebalance();
  }

  leave(member: GroupMember): Promise<void> {
    const index = this.#members.indexOf(member);
    if (index >= 0) this.#members.splice(index, 1);
    return this.#rebalance();
  }

  #rebalance(): Promise<void> {
    this.#rebalancing = this.#rebalancing.then(async () => {
      await Promise.all(this.#members.map((member) => member.pause()));
      const plan = this.#plan();
      await Promise.all(this.#members.map((member, i) => member.assign(plan[i]!)));
    });
    return this.#rebalancing;
  }

  /** Round-robin over all subscribed (topic, partition) pairs in a stable order, like Kafka's RoundRobinAssignor. */
  #plan(): TopicPartitions[][] {
    const plan = this.#members.map(() => new Map<string, number[]>());
    const topics = [...new Set(this.#members.flatMap((member) => member.topics))].sort();
    let next = 0;
    for (const topic of topics) {
      const partitionCount = this.#broker.topics.get(topic)?.partitions.length ?? 0;
      for (let partition = 0; partition < partitionCount; partition++) {
        for (let tries = 0; tries < this.#members.length; tries++) {
          const index = (next + tries) % this.#members.length;
          if (!this.#members[index]!.topics.includes(topic)) continue;
          const owned = plan[index]!.get(topic) ?? [];
          owned.push(partition);
          plan[index]!.set(topic, owned);
          next = index + 1;
          break;
        }
      }
    }
    return plan.map((byTopic) => [...byTopic].map(([topic, partitions]) => ({ topic, partitions })));
  }
}
