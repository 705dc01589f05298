import type { MqttSnClient } from '../../src/client/index.js';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Holds a publishing device before message `at` until `open` resolves; `reached` says it is waiting there. */
export interface Gate {
  readonly at: number;
  readonly reached: () => void;
  readonly open: Promise<void>;
}

/**
 * A device that publishes `count` QoS 1 messages in order, one in flight, retrying each until the
 * gateway accepts it; with a `gate`, it stops before message `gate.at` until the gate opens.
 */
export async function publishAll(client: MqttSnClient, topic: string, count: number, gapMs: number, gate?: Gate): Promise<{ retried: number }> {
  let retried = 0;
  for (let i = 0; i < count; i++) {
    if (gate?.at === i) {
      gate.reached();
      await gate.open;
    }
    for (;;) {
      try {
        await client.publish(topic, String(i), { qos: 1 });
        break;
      } catch {
        retried++; // congestion or timeout: a real device keeps the message and tries again
        await pause(200);
      }
    }
    await pause(gapMs);
  }
  return { retried };
}
