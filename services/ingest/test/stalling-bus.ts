import type { Bus, Producer } from "@meshloop/bus";

/**
 * A fault injector: a bus whose sends hang until `resume()`, like a broker that accepts connections but never
 * acknowledges. Everything else is the wrapped bus.
 */
export function stallingBus(inner: Bus): Bus & { resume(): void } {
  let release: () => void = () => undefined;
  let stalled = new Promise<void>((resolve) => { release = resolve; });
  return Object.assign(Object.create(inner) as Bus, {
    producer(options?: Parameters<Bus["producer"]>[0]): Producer {
      const producer = inner.producer(options);
      return Object.assign(Object.create(producer) as Producer, {
        send: async (topic: string, records: Parameters<Producer["send"]>[1]) => {
          await stalled;
          return producer.send(topic, records);
        },
      });
    },
    ensureTopics: (specs: Parameters<Bus["ensureTopics"]>[0]) => inner.ensureTopics(specs),
    partitionCount: (topic: string) => inner.partitionCount(topic),
    close: () => inner.close(),
    resume(): void {
      release();
      stalled = Promise.resolve();
    },
  });
}
