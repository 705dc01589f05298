import mqtt, { type MqttClient } from 'mqtt';
import { benchTopic, pace, type Fleet, type LoadResult, type LoadSpec } from './fleet.js';
import { latencyHistogram, summarise } from './histogram.js';
import { nowMs, writePayload } from './payload.js';

/** The reference: the same load sent directly to the broker by MQTT clients over TCP. */
export class MqttFleet implements Fleet {
  private readonly clients: MqttClient[] = [];
  private seqs: number[] = [];

  constructor(
    private readonly brokerUrl: string,
    private readonly count: number,
    private readonly runId: string,
  ) {}

  async connect(): Promise<void> {
    for (let i = 0; i < this.count; i++) {
      this.clients.push(await mqtt.connectAsync(this.brokerUrl, { clientId: `bench-direct-${this.runId}-${i}`, clean: true, reconnectPeriod: 0 }));
    }
  }

  async run(spec: LoadSpec): Promise<LoadResult> {
    const rtt = latencyHistogram();
    const topics = this.clients.map((_, i) => benchTopic(this.runId, i));
    if (this.seqs.length === 0) this.seqs = this.clients.map(() => 0);
    const seqs = this.seqs;
    const seqFrom = [...seqs];
    const inFlight = this.clients.map(() => 0);
    let acked = 0;
    let running = true;
    const send = (device: number): void => {
      const payload = Buffer.alloc(spec.payloadSize);
      const sentAt = nowMs();
      writePayload(payload, 0, device, seqs[device]!++, sentAt);
      if (spec.qos === 0) {
        this.clients[device]!.publish(topics[device]!, payload, { qos: 0 });
        return;
      }
      inFlight[device]!++;
      this.clients[device]!.publish(topics[device]!, payload, { qos: 1 }, (error) => {
        inFlight[device]!--;
        if (!error) {
          acked++;
          rtt.recordValue(Math.max(1, Math.round((nowMs() - sentAt) * 1000)));
        }
        if (spec.mode === 'window' && running) send(device);
      });
    };
    let startedAt: number;
    let endedAt: number;
    if (spec.mode === 'paced') {
      ({ startedAt, endedAt } = await pace(this.clients.length, spec.rate, spec.durationMs, send, nowMs));
    } else {
      startedAt = nowMs();
      for (let device = 0; device < this.clients.length; device++) for (let i = 0; i < spec.window; i++) send(device);
      await new Promise((resolve) => setTimeout(resolve, spec.durationMs));
      running = false;
      endedAt = nowMs();
    }
    const deadline = Date.now() + 10_000;
    while (spec.qos === 1 && Date.now() < deadline && inFlight.some((n) => n > 0)) await new Promise((resolve) => setTimeout(resolve, 20));
    const seqTo = [...seqs];
    return { seqFrom, seqTo, sent: seqTo.reduce((sum, to, i) => sum + to - seqFrom[i]!, 0), acked, rejected: {}, retries: 0, rtt: summarise(rtt), startedAt, endedAt };
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.endAsync()));
  }
}
