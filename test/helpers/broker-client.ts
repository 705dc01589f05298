import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export interface ReceivedMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: number;
  readonly retain: boolean;
}

/** The gateway's own retained state topics (config `status`), on by default. */
export const GATEWAY_STATUS_TOPICS = /^mqttsn-gateway\//;

/** An ordinary MQTT client at the broker: what a user would check with mosquitto_sub. */
export class BrokerClient {
  readonly messages: ReceivedMessage[] = [];
  private waiters: Array<() => void> = [];
  private ignoring: RegExp | undefined;

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      if (this.ignoring?.test(topic)) return;
      this.messages.push({ topic, payload, qos: packet.qos, retain: packet.retain });
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static async connect(url: string, options: IClientOptions = {}): Promise<BrokerClient> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, clientId: `test-${Math.random().toString(16).slice(2)}`, ...options });
    return new BrokerClient(client);
  }

  /** Messages on matching topics are not recorded: a `#` watcher that checks device traffic only. */
  ignore(topics: RegExp = GATEWAY_STATUS_TOPICS): this {
    this.ignoring = topics;
    return this;
  }

  async subscribe(filter: string, qos: 0 | 1 | 2 = 1): Promise<void> {
    await this.client.subscribeAsync(filter, { qos });
  }

  async publish(topic: string, payload: string | Buffer, qos: 0 | 1 | 2 = 1, retain = false): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos, retain });
  }

  /** Resolves once `count` messages satisfying `filter` arrived; rejects after `timeoutMs`. */
  async waitFor(count: number, filter: (message: ReceivedMessage) => boolean = () => true, timeoutMs = 5000): Promise<ReceivedMessage[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = this.messages.filter(filter);
      if (matching.length >= count) return matching;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${count} messages at the broker, got ${matching.length}: ${matching.map((m) => m.topic).join(', ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
