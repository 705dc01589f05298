import mqtt, { type MqttClient } from 'mqtt';
import { latencyHistogram, summarise, type LatencySummary } from './histogram.js';
import { nowMs, readPayload } from './payload.js';

export interface CountResult {
  /** Messages received, duplicates included. */
  readonly received: number;
  readonly unique: number;
  readonly duplicates: number;
  /** Messages that arrived after a later one from the same device. */
  readonly outOfOrder: number;
  /** Sent but never received (needs the per-device sent counts). */
  readonly lost: number;
  readonly latency: LatencySummary;
  readonly firstAt: number;
  readonly lastAt: number;
}

/** One bit per sequence number, growing as needed. */
class SeenSet {
  private bits = new Uint8Array(1024);
  highest = -1;

  /** Records `seq`; false when it was already seen. */
  add(seq: number): boolean {
    const byte = seq >>> 3;
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.bits.length * 2));
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (seq & 7);
    if ((this.bits[byte]! & mask) !== 0) return false;
    this.bits[byte]! |= mask;
    return true;
  }

  countRange(from: number, to: number): number {
    let count = 0;
    for (let seq = from; seq < to; seq++) if ((this.bits[seq >>> 3]! & (1 << (seq & 7))) !== 0) count++;
    return count;
  }
}

/**
 * The broker-side subscriber: counts every benchmark message, per device, with loss,
 * duplicates, order and end-to-end latency from the timestamp in the payload.
 */
export class BenchCounter {
  private client: MqttClient | undefined;
  private readonly devices = new Map<number, SeenSet>();
  private histogram = latencyHistogram();
  private received = 0;
  private duplicates = 0;
  private outOfOrder = 0;
  private firstAt = 0;
  private lastAt = 0;

  constructor(
    private readonly brokerUrl: string,
    private readonly filter: string,
    private readonly qos: 0 | 1 = 0,
  ) {}

  async start(): Promise<void> {
    const client = await mqtt.connectAsync(this.brokerUrl, { clientId: `bench-counter-${process.pid}-${Date.now()}`, reconnectPeriod: 0, clean: true });
    client.on('message', (_topic, payload) => this.count(payload));
    await client.subscribeAsync(this.filter, { qos: this.qos });
    this.client = client;
  }

  /** Starts a new measurement (a new step of a scenario) on the same subscription. */
  reset(): void {
    this.devices.clear();
    this.histogram = latencyHistogram();
    this.received = 0;
    this.duplicates = 0;
    this.outOfOrder = 0;
    this.firstAt = 0;
    this.lastAt = 0;
  }

  /** Waits until `expected` unique messages arrived, or nothing new came for `quietMs`. */
  async drain(expected: number, quietMs = 750, maxMs = 15_000): Promise<void> {
    const started = Date.now();
    let last = this.received;
    let lastChange = Date.now();
    while (Date.now() - started < maxMs) {
      if (this.received - this.duplicates >= expected) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (this.received !== last) {
        last = this.received;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > quietMs) {
        return;
      }
    }
  }

  /** Counts against what was sent: per device, sequence numbers `seqFrom[i]` to `seqTo[i]` (excluded). */
  result(seqFrom: readonly number[], seqTo: readonly number[]): CountResult {
    let unique = 0;
    let sent = 0;
    seqTo.forEach((to, device) => {
      const from = seqFrom[device] ?? 0;
      sent += to - from;
      unique += this.devices.get(device)?.countRange(from, to) ?? 0;
    });
    return {
      received: this.received,
      unique,
      duplicates: this.duplicates,
      outOfOrder: this.outOfOrder,
      lost: sent - unique,
      latency: summarise(this.histogram),
      firstAt: this.firstAt,
      lastAt: this.lastAt,
    };
  }

  async close(): Promise<void> {
    await this.client?.endAsync(true);
  }

  private count(payload: Buffer): void {
    const stamp = readPayload(payload);
    if (!stamp) return;
    const now = nowMs();
    this.received++;
    if (this.firstAt === 0) this.firstAt = now;
    this.lastAt = now;
    let seen = this.devices.get(stamp.device);
    if (!seen) {
      seen = new SeenSet();
      this.devices.set(stamp.device, seen);
    }
    if (!seen.add(stamp.seq)) {
      this.duplicates++;
      return;
    }
    if (stamp.seq < seen.highest) this.outOfOrder++;
    else seen.highest = stamp.seq;
    this.histogram.recordValue(Math.max(1, Math.round((now - stamp.sentAt) * 1000)));
  }
}
