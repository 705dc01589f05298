/**
 * The control device: an ordinary, well-behaved client (the project's own MqttSnClient) that
 * publishes QoS 1 on its own topic while the fuzz traffic runs, and a plain MQTT subscriber at
 * the broker that records what arrives. A healthy gateway keeps serving it whatever the other
 * devices send; every message it PUBACKed must be at the broker.
 */
import { ClientError, MqttSnClient } from '../../src/client/index.js';
import { BrokerClient } from '../helpers/broker-client.js';
import { RESERVED_CLIENT_ID } from './generator.js';

export interface ControlResult {
  readonly sent: number;
  readonly acked: number;
  /** Publishes (or reconnects) that failed: timeout, rejected return code. */
  readonly failures: number;
  readonly failureSamples: readonly string[];
  readonly reconnects: number;
  /** Ticks skipped because the previous publish was still unanswered (§6.13: one at a time). */
  readonly skipped: number;
  /** PUBACKed at the gateway but never seen at the broker, each saying whether the gateway sent it on. */
  readonly missingAtBroker: readonly string[];
  readonly maxAckMs: number;
  /** mosquitto's `$SYS/broker/publish/messages/dropped` at the end (NaN when not received). */
  readonly brokerDropped: number;
  /** Times the watcher's connection closed (it does not reconnect: what was published meanwhile is lost to it). */
  readonly watcherCloses: number;
}

const BROKER_DROPPED = '$SYS/broker/publish/messages/dropped';

export class ControlDevice {
  private client: MqttSnClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private readonly acked = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly failureSamples: string[] = [];
  private failures = 0;
  private reconnects = 0;
  private skipped = 0;
  private reconnecting: Promise<void> | undefined;
  private maxAckMs = 0;
  private watcherCloses = 0;

  private constructor(private readonly gateway: string, readonly topic: string, private readonly watcher: BrokerClient) {}

  static async start(gatewayPort: number, brokerUrl: string, topic: string, intervalMs: number): Promise<ControlDevice> {
    const watcher = await BrokerClient.connect(brokerUrl, { clientId: 'fuzz-watcher' });
    await watcher.subscribe(topic, 1);
    // mosquitto's own count of messages it dropped (queues full, quotas): evidence when one goes missing.
    await watcher.subscribe(BROKER_DROPPED, 0);
    const control = new ControlDevice(`udp://127.0.0.1:${gatewayPort}`, topic, watcher);
    watcher.client.on('close', () => control.watcherCloses++);
    await control.connect();
    control.timer = setInterval(() => control.tick(), intervalMs);
    return control;
  }

  /** Stops publishing and waits for the publishes still in flight. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight, this.reconnecting]);
  }

  /** Waits up to `timeoutMs` for every PUBACKed message to reach the broker. */
  async settle(timeoutMs: number): Promise<void> {
    const arrived = (): boolean => [...this.acked].every((payload) => this.delivered().has(payload));
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline && !arrived(); ) await new Promise((resolve) => setTimeout(resolve, 100));
  }

  /** `forwarded` says whether the gateway sent a payload toward the broker (the relay saw it). */
  result(forwarded?: (payload: string) => boolean): ControlResult {
    const delivered = this.delivered();
    return {
      sent: this.seq,
      acked: this.acked.size,
      failures: this.failures,
      failureSamples: this.failureSamples,
      reconnects: this.reconnects,
      skipped: this.skipped,
      missingAtBroker: [...this.acked]
        .filter((payload) => !delivered.has(payload))
        .map((payload) => (forwarded ? `${payload} (${forwarded(payload) ? 'sent on by the gateway: lost between the relay and the watcher' : 'never sent on by the gateway'})` : payload)),
      maxAckMs: this.maxAckMs,
      brokerDropped: Number(this.watcher.messages.filter((m) => m.topic === BROKER_DROPPED).at(-1)?.payload.toString() ?? NaN),
      watcherCloses: this.watcherCloses,
    };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.client?.close();
    await this.watcher.close();
  }

  private delivered(): Set<string> {
    return new Set(this.watcher.messages.filter((m) => m.topic === this.topic).map((m) => m.payload.toString()));
  }

  private async connect(): Promise<void> {
    await this.client?.close();
    // Retries as a careful device would (T_RETRY 1 s, N_RETRY 4): about 5 s before giving up.
    this.client = new MqttSnClient({ gateway: this.gateway, clientId: RESERVED_CLIENT_ID, keepAlive: 30, retryMs: 1000, retries: 4 });
    this.client.on('error', () => undefined); // reported through the failing publish
    await this.client.connect();
  }

  private tick(): void {
    if (this.reconnecting) return;
    const client = this.client;
    if (!client || client.state !== 'connected') return this.reconnect();
    // One QoS 1 publish outstanding at a time, as a real device: a queue behind a stalled one
    // would only turn one failure into many.
    if (this.inFlight.size > 0) return void this.skipped++;
    const payload = `control-${++this.seq}`;
    const started = Date.now();
    const publish = client.publish(this.topic, payload, { qos: 1 }).then(
      () => {
        this.acked.add(payload);
        this.maxAckMs = Math.max(this.maxAckMs, Date.now() - started);
      },
      (error: unknown) => {
        if (error instanceof ClientError && error.code === 'closed') return; // we closed it
        this.fail(`${payload}: ${error instanceof Error ? error.message : String(error)}`);
        // A refusal (congestion) leaves the session as it was; silence may mean it is gone.
        if (!(error instanceof ClientError && error.code === 'rejected')) this.reconnect();
      },
    );
    this.inFlight.add(publish);
    void publish.finally(() => this.inFlight.delete(publish));
  }

  private reconnect(): void {
    this.reconnecting ??= this.connect().then(
      () => void this.reconnects++,
      (error: unknown) => this.fail(`reconnect: ${error instanceof Error ? error.message : String(error)}`),
    ).finally(() => (this.reconnecting = undefined));
  }

  private fail(what: string): void {
    this.failures++;
    if (this.failureSamples.length < 20) this.failureSamples.push(what);
  }
}
