import type { MqttQos, Upstream } from './upstream.js';

/**
 * Device subscriptions share the gateway's one upstream connection: a filter is subscribed at
 * the broker once, at the highest QoS any device asked for, and unsubscribed when the last device
 * lets go. Changes to one filter run one after another so the broker sees them in order.
 */
export class SharedSubscriptions {
  private readonly owners = new Map<string, Map<string, MqttQos>>();
  private readonly subscribedQos = new Map<string, MqttQos>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly upstream: Upstream) {}

  /**
   * Adds `owner`'s interest in `filter`; resolves with the QoS the broker granted for it. With
   * `replayRetained`, a filter already held is subscribed again, so the broker sends its retained
   * messages once more (for the new owner).
   */
  subscribe(owner: string, filter: string, qos: MqttQos, replayRetained = false): Promise<MqttQos> {
    let owners = this.owners.get(filter);
    if (!owners) {
      owners = new Map();
      this.owners.set(filter, owners);
    }
    owners.set(owner, qos);
    return this.serialise(filter, async () => {
      const wanted = this.maxQos(filter);
      const current = this.subscribedQos.get(filter);
      if (wanted === undefined) return qos;
      if (current !== undefined && current >= wanted && !replayRetained) return Math.min(qos, current) as MqttQos;
      const granted = await this.upstream.subscribe(filter, Math.max(wanted, current ?? 0) as MqttQos);
      this.subscribedQos.set(filter, granted);
      return Math.min(qos, granted) as MqttQos;
    });
  }

  unsubscribe(owner: string, filter: string): Promise<void> {
    const owners = this.owners.get(filter);
    if (!owners?.delete(owner)) return Promise.resolve();
    if (owners.size > 0) return Promise.resolve();
    this.owners.delete(filter);
    return this.serialise(filter, async () => {
      if (this.owners.has(filter) || !this.subscribedQos.has(filter)) return;
      this.subscribedQos.delete(filter);
      await this.upstream.unsubscribe(filter);
    });
  }

  get filters(): number {
    return this.owners.size;
  }

  private maxQos(filter: string): MqttQos | undefined {
    const owners = this.owners.get(filter);
    if (!owners || owners.size === 0) return undefined;
    return Math.max(...owners.values()) as MqttQos;
  }

  private serialise<T>(filter: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(filter) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.catch(() => undefined);
    this.queues.set(filter, settled);
    void settled.then(() => {
      if (this.queues.get(filter) === settled) this.queues.delete(filter);
    });
    return next;
  }
}
