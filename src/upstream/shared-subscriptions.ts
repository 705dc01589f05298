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
  /** Replays (SUBSCRIBE again) queued and not sent yet, by filter: later ones join them. */
  private readonly waitingReplays = new Map<string, Promise<MqttQos>>();

  /** When the last retained replay was asked for, by filter (forgotten with the filter). */
  private readonly lastReplayAt = new Map<string, number>();

  /** `replayIntervalMs`: the least time between two retained replays of one filter. */
  constructor(
    private readonly upstream: Upstream,
    private readonly replayIntervalMs = 1000,
  ) {}

  /**
   * Adds `owner`'s interest in `filter`; resolves with the QoS the broker granted for it. With
   * `replayRetained`, a filter already held is subscribed again, so the broker sends its retained
   * messages once more (for the new owner). Replays asked for while one for the same filter waits
   * its turn join it: a thousand devices subscribing to `#` at once cost one replay, not a thousand.
   */
  subscribe(owner: string, filter: string, qos: MqttQos, replayRetained = false): Promise<MqttQos> {
    let owners = this.owners.get(filter);
    if (!owners) {
      owners = new Map();
      this.owners.set(filter, owners);
    }
    owners.set(owner, qos);
    const current = this.subscribedQos.get(filter);
    if (replayRetained && current !== undefined && current >= qos) {
      // Held already at this QoS: the device has its answer now, the replay follows on its own.
      this.replay(filter).catch(() => undefined); // a broker refusing a filter it holds changes nothing here
      return Promise.resolve(Math.min(qos, current) as MqttQos);
    }
    return replayRetained ? this.replay(filter).then((granted) => Math.min(qos, granted) as MqttQos) : this.change(filter, qos, false).then((granted) => Math.min(qos, granted) as MqttQos);
  }

  /**
   * SUBSCRIBE again for the retained messages: joins one waiting for the same filter, else queues
   * one. Each replay costs the broker its whole matching retained store, so one filter gets at
   * most one per interval, however many devices subscribe (or one device, in a loop); the wait is
   * outside the filter's queue, so an UNSUBSCRIBE meanwhile is not held up.
   */
  private replay(filter: string): Promise<MqttQos> {
    const waiting = this.waitingReplays.get(filter);
    if (waiting) return waiting;
    const now = Date.now();
    const at = Math.max(now, (this.lastReplayAt.get(filter) ?? Number.NEGATIVE_INFINITY) + this.replayIntervalMs);
    this.lastReplayAt.set(filter, at);
    const wait = at > now ? new Promise((resolve) => setTimeout(resolve, at - now)) : Promise.resolve();
    const done = wait.then(() => this.change(filter, 0, true));
    this.waitingReplays.set(filter, done);
    return done;
  }

  /** Subscribes at the broker when the owners' QoS needs it (or for a replay), after earlier changes to `filter`. */
  private change(filter: string, qos: MqttQos, replayRetained: boolean): Promise<MqttQos> {
    return this.serialise(filter, async (): Promise<MqttQos> => {
      // From here on the SUBSCRIBE is on its way: a later device needs a replay of its own.
      if (replayRetained) this.waitingReplays.delete(filter);
      const wanted = this.maxQos(filter);
      const current = this.subscribedQos.get(filter);
      if (wanted === undefined) return qos;
      if (current !== undefined && current >= wanted && !replayRetained) return current;
      const granted = await this.upstream.subscribe(filter, Math.max(wanted, current ?? 0) as MqttQos);
      this.subscribedQos.set(filter, granted);
      return granted;
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
      this.lastReplayAt.delete(filter);
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
